# A package, so tools that put a checked file's directory on sys.path (pylint in ansible-test sanity) see
# ``support.ansible`` and never mistake tests/support/ansible.py for the ``ansible`` package.
