"""Identity and authorization: signing keys and their JWKS, access tokens, the caller of a call, and the one
table of who may call each method (`policy`)."""
