# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of iommufd-viommu's Documentation/ (make htmldocs).
#
# The `.. kernel-doc::` directive comes from the Linux 6.12 tree's
# Documentation/sphinx/kerneldoc.py, unpacked by Documentation/sphinx/docs.sh
# into build/docs/sphinx; paths in the directives are relative to the top of
# this repository.

import os
import sys

top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
build = os.environ.get('BUILD', os.path.join(top, 'build'))

sys.path.insert(0, os.environ.get('KERNELDOC_EXT_DIR',
                                  os.path.join(build, 'docs', 'sphinx')))

project = 'iommufd-viommu'
copyright = 'The iommufd-viommu developers'
master_doc = 'index'
extensions = ['kerneldoc']
exclude_patterns = ['sphinx']

kerneldoc_bin = os.environ.get('KERNELDOC_BIN',
                               os.path.join(build, 'linux-6.12', 'scripts',
                                            'kernel-doc'))
kerneldoc_srctree = top

primary_domain = 'c'
highlight_language = 'none'
html_theme = 'alabaster'
