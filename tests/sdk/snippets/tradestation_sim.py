import os
from tradestation import Account, Session  # pip install tradestation

# keygrant exec sets these; the SDK reads no environment itself. With access_token
# it does not refresh, so a rotating API key's refresh token stays unspent.
session = Session(
    os.environ["TRADESTATION_API_KEY"],
    os.environ["TRADESTATION_SECRET_KEY"],
    os.environ["TRADESTATION_REFRESH_TOKEN"],
    access_token=os.environ["KEYGRANT_ACCESS_TOKEN"],
    is_test=True,
)
for account in Account.get_accounts(session):
    print(account.account_id)
