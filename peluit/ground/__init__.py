"""The ground floor: small services every room of the house may import.

``peluit.ground`` is the lowest layer, below ``crypto``: it imports the standard library and a
few small libraries (Babel, the ``multipart`` push parser), never a web framework, a database
layer or another part of Peluit (tests/unit/peluit/test_import_graph.py holds it to that).
The order of the house, bottom to top::

    peluit.ground  ←  crypto  ←  policies  ←  dropbox_app, workbench  ←  peluit.cli, peluit.demo

What lives here, one home each:

* ``files``   — the atomic write (temp name, fsync, rename, directory fsync; 0600 by default)
* ``clock``   — the one clock service, days counted in the deployment's time zone
* ``i18n``    — gettext catalogs from ``.po`` files, language negotiation
* ``wsgi``    — request guards shared by the three apps (cookie header, URL encoding)
* ``forms``   — form bodies parsed in memory with caps, never spooled to disk
* ``errors``  — the CLI's user error: one line on stderr, non-zero exit, no traceback

It sits inside the ``peluit`` distribution's own name (not a new top-level package) because
generic top-level names in site-packages (``crypto``, ``tor``, ``policies``) can clash with
other distributions; ``peluit.*`` cannot. ``peluit/__init__.py`` stays empty of imports so that
importing the ground floor pulls in nothing from the top of the house."""
