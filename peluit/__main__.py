import sys

from peluit.cli import main

sys.exit(main())
