"""Plain functions holding the server's logic, testable without HTTP."""
