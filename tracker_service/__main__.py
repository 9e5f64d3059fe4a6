from tracker_service.cli import main

raise SystemExit(main())
