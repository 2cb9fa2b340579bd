import sys

from hexlit.composition.cli import main

sys.exit(main())
