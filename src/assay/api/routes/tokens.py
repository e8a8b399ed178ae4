"""Personal API tokens: the caller's own (and, for admins, their organization's)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from assay.accounts import service as accounts
from assay.api.bodies import BoundedBodyRoute
from assay.api.deps import CurrentActor, CurrentCaller, DbSession
from assay.api.openapi import problem_responses
from assay.api.pagination import Page, PageQuery, page_of
from assay.api.params import TokenId
from assay.api.schemas import TokenCreate, TokenIssued, TokenOut

router = APIRouter(prefix="/tokens", tags=["tokens"], route_class=BoundedBodyRoute)


@router.get("")
def list_tokens(session: DbSession, actor: CurrentActor, page: PageQuery) -> Page[TokenOut]:
    """Tokens the caller may see: its own, and for an admin every token of its organization."""
    tokens, total = accounts.list_tokens(session, actor, limit=page.limit, offset=page.offset)
    return page_of(TokenOut, map(TokenOut.of, tokens), total, page)


@router.post("", status_code=201, responses=problem_responses(403, 404))
def create_token(
    session: DbSession, caller: CurrentCaller, body: TokenCreate, response: Response
) -> TokenIssued:
    """Issue a token for the caller in the caller's organization; the secret is shown once."""
    issued = accounts.create_token(
        session,
        caller.actor,
        user_email=caller.user.email,
        org_slug=caller.organization.slug,
        name=body.name,
        expires_in_days=body.expires_in_days,
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued(token=TokenOut.of(issued.token), secret=issued.secret)


@router.delete("/{token_id}", status_code=204, responses=problem_responses(404, 409))
def revoke_token(session: DbSession, actor: CurrentActor, token_id: TokenId) -> Response:
    """Revoke a token (the caller's own, or any of its organization's for an admin)."""
    accounts.revoke_token(session, actor, token_id)
    return Response(status_code=204)
