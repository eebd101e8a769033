import sys

from reconciler.action.commands import main

if __name__ == "__main__":
    sys.exit(main())
