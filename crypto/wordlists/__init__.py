"""Word lists for codenames (see README.md here). Data files only at run time; build_id.py is
the build-time tool that makes id.txt."""
