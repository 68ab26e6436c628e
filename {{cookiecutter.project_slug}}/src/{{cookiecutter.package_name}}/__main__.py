"""``python -m {{ cookiecutter.package_name }}``: the management command line."""

import sys

from .cli import main

sys.exit(main())
