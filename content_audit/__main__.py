from content_audit.cli import main

main()
