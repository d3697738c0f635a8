"""Who is calling: mini-program login, our JWTs, roles and members' consents."""
