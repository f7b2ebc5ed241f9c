import os
from schwab.auth import client_from_access_functions  # pip install schwab-py

# keygrant exec sets these; no token file is read or written.
token = {
    "creation_timestamp": int(os.environ.get("KEYGRANT_SIGNED_IN_AT", "0")),
    "token": {
        "access_token": os.environ["KEYGRANT_ACCESS_TOKEN"],
        "refresh_token": os.environ["SCHWAB_REFRESH_TOKEN"],
        "token_type": "Bearer",
        "expires_at": int(os.environ.get("KEYGRANT_ACCESS_TOKEN_EXPIRES_AT", "0")),
    },
}
client = client_from_access_functions(
    os.environ["SCHWAB_APP_KEY"],
    os.environ["SCHWAB_APP_SECRET"],
    token_read_func=lambda: token,
    # A refreshed token stays in this process; Keygrant keeps the grant.
    token_write_func=lambda wrapped, *args, **kwargs: token.update(wrapped),
)
for account in client.get_account_numbers().json():
    print(account["accountNumber"])
