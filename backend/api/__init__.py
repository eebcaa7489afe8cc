"""HTTP routers, one per resource; each route delegates to a service function."""
