//! End-to-end tests of Earshot live in `tests/`; this library is empty on purpose.
