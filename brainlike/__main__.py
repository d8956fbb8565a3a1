import sys

from brainlike.cli import main

sys.exit(main())
