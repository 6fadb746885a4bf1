from tray_agent.cli import main

raise SystemExit(main())
