from tray_agent.cli import entry

entry()
