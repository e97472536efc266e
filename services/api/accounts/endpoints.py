from fastapi import APIRouter, status

from services.api.accounts import service
from services.api.accounts.schemas import AccountCreate, AccountPublic, AccountUpdate
from services.api.crud import get_or_404
from services.api.deps import Reader, RegistryWriter, SessionDep
from services.api.pagination import Page, PageDep
from shared.models import Account
from shared.models.enums import Platform

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountPublic)
async def create_account(data: AccountCreate, session: SessionDep, principal: RegistryWriter) -> Account:
    """Store the credentials channels post with: a VK community admin's user token, an OK access token
    with the application's keys, or a Telegram bot token. One account serves many channels.

    Credentials are **write-only**: encrypted at rest, never returned, never logged; the response shows
    a fingerprint only. Roles: admin, editor (any owner, or shared with `organisation_id: null`);
    operator (its own organisation only)."""
    return await service.create_account(session, principal, data)


@router.get("", response_model=Page[AccountPublic])
async def list_accounts(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    platform: Platform | None = None,
    organisation_id: int | None = None,
) -> dict[str, object]:
    """List accounts (without secrets). Operators see their own and the region's shared accounts."""
    items, total = await service.list_accounts(
        session, principal, page, platform=platform, organisation_id=organisation_id
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/{account_id}", response_model=AccountPublic)
async def get_account(account_id: int, session: SessionDep, principal: Reader) -> Account:
    """One account, without its secrets."""
    account = await get_or_404(session, Account, account_id)
    service.ensure_account_visible(principal, account)
    return account


@router.patch("/{account_id}", response_model=AccountPublic)
async def update_account(
    account_id: int, data: AccountUpdate, session: SessionDep, principal: RegistryWriter
) -> Account:
    """Rename an account or rotate its credentials (send the full new set). Roles: admin, editor;
    operator for its own organisation's accounts."""
    return await service.update_account(session, principal, account_id, data)
