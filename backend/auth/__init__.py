"""Who is signed in and what they may see: accounts, web sessions, CSRF, rate limits, the scope rule."""
