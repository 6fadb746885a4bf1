"""The demo: the real agent against the embedded simulator, a scripted contact-centre day, its own tray."""
