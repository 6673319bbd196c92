"""Helpers shared by the tests (no tests here): ``data`` (small UCR archives, the shared UCR
files), ``fakes`` (a fast stand-in Backend and small profiles), ``grids`` (real smoke grids
computed once per pytest process)."""
