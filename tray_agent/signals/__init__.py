"""Local signals that Teams is about to change: the session lock, microphone and camera, the calendar."""
