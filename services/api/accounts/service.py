from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.accounts.schemas import AccountCreate, AccountUpdate, check_credentials
from services.api.crud import get_or_404
from services.api.deps import Principal
from services.api.errors import Forbidden, InvalidField
from services.api.pagination import PageParams, paginate
from shared.crypto import encrypt_secret, fingerprint
from shared.models import Account, Channel, Organisation
from shared.models.base import utcnow
from shared.models.enums import ChannelStatus, Platform


def ensure_account_visible(principal: Principal, account: Account) -> None:
    """Operators see their organisation's accounts and the region's shared ones (never secrets)."""
    if principal.is_operator and account.organisation_id not in (None, principal.organisation_id):
        raise Forbidden(f"this key is bound to organisation {principal.organisation_id}")


def ensure_account_writable(principal: Principal, account: Account) -> None:
    if principal.is_operator and account.organisation_id != principal.organisation_id:
        raise Forbidden("operators may change only their own organisation's accounts")


async def create_account(session: AsyncSession, principal: Principal, data: AccountCreate) -> Account:
    if principal.is_operator and data.organisation_id != principal.organisation_id:
        raise Forbidden(f"operators create accounts for their own organisation ({principal.organisation_id})")
    if data.organisation_id is not None and await session.get(Organisation, data.organisation_id) is None:
        raise InvalidField("body.organisation_id", f"organisation {data.organisation_id} does not exist")
    account = Account(
        platform=data.platform.value,
        name=data.name,
        organisation_id=data.organisation_id,
        secret=encrypt_secret(data.credentials),
        secret_fingerprint=fingerprint(data.credentials),
    )
    session.add(account)
    await session.flush()
    audit.record(
        session,
        principal,
        "account.create",
        "account",
        account.id,
        organisation_id=data.organisation_id,
        changes={"platform": data.platform.value, "name": data.name, "credentials": "set"},
    )
    return account


async def update_account(
    session: AsyncSession, principal: Principal, account_id: int, data: AccountUpdate
) -> Account:
    account = await get_or_404(session, Account, account_id, for_update=True)
    ensure_account_writable(principal, account)
    changes: dict[str, object] = {}
    if data.name is not None and data.name != account.name:
        changes["name"] = [account.name, data.name]
        account.name = data.name
    if data.credentials is not None:
        try:
            check_credentials(Platform(account.platform), data.credentials)
        except ValueError as exc:
            raise InvalidField("body.credentials", str(exc)) from exc
        account.secret = encrypt_secret(data.credentials)
        account.secret_fingerprint = fingerprint(data.credentials)
        account.secret_updated_at = utcnow()
        changes["credentials"] = "rotated"
        # New credentials: channels that stopped because the old ones failed try again; their held
        # deliveries resume (if the new ones fail too, the distributor stops them again).
        reactivated = (
            await session.exec(
                update(Channel)
                .where(
                    col(Channel.account_id) == account_id,
                    col(Channel.status) == ChannelStatus.credentials_invalid.value,
                )
                .values(status=ChannelStatus.active.value, status_reason=None, status_changed_at=utcnow())
                .returning(Channel.id)  # type: ignore[call-overload]
            )
        ).all()
        if reactivated:
            changes["reactivated_channels"] = sorted(row[0] for row in reactivated)
    if changes:
        account.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            principal,
            "account.update",
            "account",
            account_id,
            organisation_id=account.organisation_id,
            changes=changes,
        )
    return account


async def list_accounts(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    platform: Platform | None,
    organisation_id: int | None,
) -> tuple[list[Account], int]:
    query = select(Account).order_by(col(Account.id))
    if principal.is_operator:
        query = query.where(
            or_(col(Account.organisation_id).is_(None), Account.organisation_id == principal.organisation_id)
        )
    if platform is not None:
        query = query.where(Account.platform == platform.value)
    if organisation_id is not None:
        query = query.where(Account.organisation_id == organisation_id)
    return await paginate(session, query, page)
