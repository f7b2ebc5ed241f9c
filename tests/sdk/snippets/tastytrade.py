import asyncio
from tastytrade import Account, Session  # pip install "tastytrade>=12" (async)


async def main():
    # Session() reads TT_SECRET and TT_REFRESH from the environment.
    async with Session() as session:
        for account in await Account.get(session):
            print(account.account_number)


asyncio.run(main())
