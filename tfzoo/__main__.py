import sys

from tfzoo.cli import main

sys.exit(main())
