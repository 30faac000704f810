"""The HTTP/WebSocket API (FastAPI): routes, authentication dependency, error format, lifespan.

Errors are always JSON ``{"error": <code>, "message": <what is wrong>}`` with a 4xx status: 400 bad or
refused input, 401 bad signature / missing or expired session, 403 compliance, 404 unknown order or
market, 409 order not open, 413 body too large, 422 schema violations, 429 rate limited (with
``Retry-After``). OpenAPI: ``GET /openapi.json``, docs at ``/docs``.
"""

# No `from __future__ import annotations`: FastAPI must see the closures' Annotated dependencies as objects.

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException

from offchain.gateway import models as m
from offchain.gateway.auth import (
    AuthError,
    ChallengeStore,
    Session,
    SessionStore,
    login_typed_data,
    recover_login_signer,
)
from offchain.gateway.config import GatewayConfig
from offchain.gateway.middleware import LimitsMiddleware
from offchain.gateway.ratelimit import RateLimiter, retry_after_header
from offchain.gateway.reader import AccountState
from offchain.gateway.service import ExchangeService, FillRecord, GatewayError, OrderRecord, fill_json, order_json
from offchain.monitoring.metrics import GatewayMetrics
from offchain.monitoring.server import render_latest
from offchain.orders.order import Domain, Order, SignedOrder

log = logging.getLogger("perpx.gateway")

HashPath = Annotated[str, Path(pattern=m.HASH_PATTERN, description="order hash (EIP-712 digest)")]
MarketPath = Annotated[int, Path(ge=0, lt=1 << 32)]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422, 429)
}


def _order_out(record: OrderRecord) -> m.OrderOut:
    return m.OrderOut(**order_json(record))


def _fill_out(rec: FillRecord) -> m.FillOut:
    return m.FillOut(**fill_json(rec))


def _account_out(state: AccountState) -> m.AccountOut:
    return m.AccountOut(
        account=state.account,
        token=state.token,
        collateral=str(state.collateral_x18),
        equity=str(state.equity_x18),
        initialMargin=str(state.initial_margin_x18),
        maintenanceMargin=str(state.maintenance_margin_x18),
        marginRatio=None if state.margin_ratio_x18 is None else str(state.margin_ratio_x18),
        liquidatable=state.liquidatable,
        positions=[
            m.PositionOut(
                marketId=p.market_id,
                leg=p.leg,
                size=str(p.size_x18),
                openValue=str(p.open_value_x18),
                indexPrice=str(p.index_price_x18),
                maintenanceRate=str(p.mmr_x18),
                liquidationPrice=None if p.liquidation_price_x18 is None else str(p.liquidation_price_x18),
            )
            for p in state.positions
        ],
    )


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def create_app(
    service: ExchangeService,
    config: GatewayConfig | None = None,
    registry: CollectorRegistry | None = None,
    metrics: GatewayMetrics | None = None,
) -> FastAPI:
    """The ASGI app over ``service``. ``registry`` is what ``GET /metrics`` renders (the one ``metrics``
    and the service's matcher metrics were created on)."""
    cfg = config or GatewayConfig()
    domain: Domain = service.domain
    challenges = ChallengeStore(cfg.challenge_ttl)
    sessions = SessionStore()
    account_limiter = RateLimiter(cfg.account_rate, cfg.account_burst)
    ip_limiter = RateLimiter(cfg.ip_rate, cfg.ip_burst)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def expire_loop() -> None:
            while True:
                await asyncio.sleep(cfg.expire_interval)
                try:
                    service.expire()
                except Exception:  # keep ticking; the operator sees the traceback
                    log.exception("expire tick failed")

        task = asyncio.create_task(expire_loop())
        log.info(
            "gateway up: chain %s, settlement %s, %d markets",
            domain.chain_id,
            domain.verifying_contract,
            len(service.matcher.markets),
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="perpx gateway",
        version="1.0.0",
        description=__doc__,
        lifespan=lifespan,
        responses=ERRORS,
    )
    app.add_middleware(
        LimitsMiddleware,
        ip_limiter=ip_limiter,
        max_body_bytes=cfg.max_body_bytes,
        metrics=metrics,
        trust_forwarded_for=cfg.trust_forwarded_for,
    )

    # ------------------------------------------------------------------ errors

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        log.debug("refused %s %s: %s %s", request.method, request.url.path, exc.code, exc.message)
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:10]:
            loc = ".".join(str(x) for x in err.get("loc", ()))
            parts.append(f"{loc}: {err.get('msg', 'invalid')}")
        if metrics is not None:
            metrics.rejects.labels("invalid_request").inc()
        return _error(422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    # ------------------------------------------------------------------ auth helpers

    def charge_account(account: str) -> None:
        wait = account_limiter.check(account.lower())
        if wait:
            if metrics is not None:
                metrics.rate_limited.labels("account").inc()
                metrics.rejects.labels("rate_limited").inc()
            raise GatewayError(
                429,
                "rate_limited",
                f"too many requests for account {account}; retry in {wait:.2f} s",
                {"Retry-After": retry_after_header(wait)},
            )

    async def session_of(token: str) -> Session:
        try:
            session = sessions.get(token, service.clock())
        except AuthError as exc:
            raise GatewayError(401, "unauthorized", str(exc)) from None
        if session.via_delegate and await service.delegate_expiry(session.account, session.signer) <= service.now():
            sessions.close(token)
            raise GatewayError(401, "unauthorized", "the API key of this session was revoked or expired")
        return session

    async def require_session(
        authorization: Annotated[str | None, Header(description="Bearer <token> from POST /auth/login")] = None,
    ) -> Session:
        if not authorization or not authorization.startswith("Bearer "):
            raise GatewayError(401, "unauthorized", "missing 'Authorization: Bearer <token>' (log in via /auth/login)")
        session = await session_of(authorization.removeprefix("Bearer ").strip())
        charge_account(session.account)
        return session

    Auth = Annotated[Session, Depends(require_session)]

    # ------------------------------------------------------------------ auth routes

    @app.post("/auth/challenge", response_model=m.ChallengeResponse, tags=["auth"])
    async def challenge(body: m.ChallengeRequest) -> m.ChallengeResponse:
        """Issue a single-use login nonce for ``account``, with the EIP-712 message to sign."""
        c = challenges.issue(body.account, service.now())
        return m.ChallengeResponse(
            account=c.account,
            nonce="0x" + c.nonce.hex(),
            expiry=c.expiry,
            typedData=login_typed_data(domain, c.account, c.nonce, c.expiry),
        )

    @app.post("/auth/login", response_model=m.LoginResponse, tags=["auth"])
    async def login(body: m.LoginRequest) -> m.LoginResponse:
        """Exchange a signed challenge for a bearer token; the signer is the account or its live API key."""
        now = service.now()
        try:
            c = challenges.consume(bytes.fromhex(body.nonce[2:]), body.account, now)
            signer = recover_login_signer(domain, c, bytes.fromhex(body.signature[2:]))
        except AuthError as exc:
            if metrics is not None:
                metrics.rejects.labels("login").inc()
            raise GatewayError(401, "unauthorized", str(exc)) from None
        expiry = now + cfg.session_ttl
        if signer != c.account:
            delegate_until = await service.delegate_expiry(c.account, signer)
            if delegate_until <= now:
                raise GatewayError(401, "unauthorized", f"signer {signer} is not {c.account} nor a live API key of it")
            expiry = min(expiry, delegate_until)
        charge_account(c.account)
        session = sessions.open(c.account, signer, expiry)
        log.info("login: %s (signed by %s) until %d", c.account, signer, expiry)
        return m.LoginResponse(token=session.token, account=c.account, signer=signer, expiry=int(expiry))

    @app.post("/auth/logout", status_code=204, tags=["auth"])
    async def logout(session: Auth) -> Response:
        """End the session (its token stops working)."""
        sessions.close(session.token)
        return Response(status_code=204)

    # ------------------------------------------------------------------ orders

    @app.post("/orders", response_model=m.SubmitOrderResponse, tags=["orders"])
    async def submit_order(body: m.SubmitOrderRequest) -> JSONResponse:
        """Submit a signed order (via-API flag required); answers with its state and the fills it took."""
        try:
            order = Order(**body.order.model_dump())
            order_domain = Domain(
                body.chainId if body.chainId is not None else domain.chain_id,
                body.verifyingContract or domain.verifying_contract,
            )
            signed = SignedOrder(order, bytes.fromhex(body.signature[2:]), order_domain)
        except (TypeError, ValueError) as exc:
            if metrics is not None:
                metrics.rejects.labels("invalid_order").inc()
            raise GatewayError(400, "invalid_order", str(exc)) from None
        await service.authenticate_order(signed)
        charge_account(order.trader)
        await service.check_compliance(order.trader)
        record, fills = service.submit_checked(signed)
        # Hot path: the dicts already have the documented shape (schema-checked by the fuzz tests), so skip
        # FastAPI's response-model re-validation.
        return JSONResponse({"order": order_json(record), "fills": [fill_json(f) for f in fills]})

    @app.get("/orders", response_model=list[m.OrderOut], tags=["orders"])
    async def list_orders(
        session: Auth,
        marketId: Annotated[int | None, Query(ge=0, lt=1 << 32)] = None,
        status: Literal["open", "recent"] = "open",
    ) -> list[m.OrderOut]:
        """The caller's open orders (``status=open``) or open plus recently closed ones (``recent``)."""
        records = (
            service.open_orders(session.account, marketId)
            if status == "open"
            else [
                r
                for r in service.recent_orders(session.account)
                if marketId is None or r.signed.order.marketId == marketId
            ]
        )
        return [_order_out(r) for r in records]

    @app.post("/orders/cancel-all", response_model=m.CancelAllResponse, tags=["orders"])
    async def cancel_all(session: Auth, body: m.CancelAllRequest | None = None) -> m.CancelAllResponse:
        """Cancel every open order of the caller (in ``marketId`` or everywhere; no body: everywhere)."""
        hashes = service.cancel_all(session.account, body.marketId if body is not None else None)
        return m.CancelAllResponse(cancelled=["0x" + h.hex() for h in hashes])

    @app.get("/orders/{order_hash}", response_model=m.OrderOut, tags=["orders"])
    async def order_status(order_hash: HashPath, session: Auth) -> m.OrderOut:
        """One of the caller's orders (open, or closed recently)."""
        return _order_out(service.order(bytes.fromhex(order_hash[2:]), session.account))

    @app.delete("/orders/{order_hash}", response_model=m.OrderOut, tags=["orders"])
    async def cancel_order(order_hash: HashPath, session: Auth) -> m.OrderOut:
        """Cancel one open order of the caller."""
        return _order_out(service.cancel(bytes.fromhex(order_hash[2:]), session.account))

    @app.get("/fills", response_model=list[m.FillOut], tags=["orders"])
    async def fills(session: Auth, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[m.FillOut]:
        """The caller's most recent fills, newest first (matched; settlement on chain follows in batches)."""
        return [_fill_out(f) for f in service.fills(session.account, limit)]

    @app.get("/account", response_model=list[m.AccountOut], tags=["account"])
    async def account(session: Auth) -> list[m.AccountOut]:
        """The caller's on-chain margin state per settlement token, read from the Vault and PerpEngine."""
        return [_account_out(s) for s in await service.account_states(session.account)]

    # ------------------------------------------------------------------ market data

    @app.get("/markets", response_model=list[m.MarketOut], tags=["market data"])
    async def markets() -> list[m.MarketOut]:
        """Listed markets and their grids."""
        return [
            m.MarketOut(
                marketId=mid,
                symbol=service.symbols.get(mid, f"MARKET-{mid}"),
                tickSize=str(st.config.tick_size_x18),
                lotSize=str(st.config.lot_size_x18),
                maxLeverage=st.config.max_leverage,
            )
            for mid, st in sorted(service.matcher.markets.items())
        ]

    @app.get("/markets/{market_id}/book", response_model=m.BookOut, tags=["market data"])
    async def book(market_id: MarketPath, depth: Annotated[int, Query(ge=1, le=cfg.max_book_depth)] = 50) -> m.BookOut:
        """Top ``depth`` price levels per side, best first, with the depth sequence number."""
        seq, bids, asks = service.book(market_id, depth)
        return m.BookOut(
            marketId=market_id,
            seq=seq,
            bids=[[str(p), str(q)] for p, q in bids],
            asks=[[str(p), str(q)] for p, q in asks],
        )

    # ------------------------------------------------------------------ monitoring

    @app.get("/health", response_model=m.HealthOut, tags=["monitoring"])
    async def health() -> m.HealthOut:
        """Liveness and a few counters."""
        return m.HealthOut(
            status="ok",
            markets=len(service.matcher.markets),
            openOrders=len(service.matcher.live),
            appliedSeq=service.matcher.applied_seq,
            wsClients=service.hub.count(),
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        if registry is None:
            return _error(404, "not_found", "metrics are not enabled on this gateway")
        body, ctype = render_latest(registry)
        return Response(body, media_type=ctype)

    # ------------------------------------------------------------------ websockets

    async def pump(ws: WebSocket, topic: str, first: dict[str, Any] | None, kind: str) -> None:
        sub = service.hub.subscribe(topic)
        if metrics is not None:
            metrics.ws_clients.labels(kind).inc()
        try:
            if first is not None:
                await ws.send_json(first)

            async def drain_client() -> None:  # notice disconnects; clients have nothing to say
                while True:
                    msg = await ws.receive()
                    if msg["type"] == "websocket.disconnect":
                        return

            reader = asyncio.create_task(drain_client())
            try:
                while True:
                    getter = asyncio.create_task(sub.queue.get())
                    done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                    if reader in done:
                        getter.cancel()
                        return
                    message = getter.result()
                    if message is None:
                        await ws.close(code=1013, reason="slow consumer: too far behind, reconnect")
                        return
                    await ws.send_json(message)
            finally:
                reader.cancel()
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            service.hub.unsubscribe(sub)
            if metrics is not None:
                metrics.ws_clients.labels(kind).dec()

    @app.websocket("/ws/depth/{market_id}")
    async def ws_depth(ws: WebSocket, market_id: int) -> None:
        """Depth stream: a ``snapshot`` (top ``max_book_depth`` levels, seq) then ``depth`` updates (seq+1, ...)."""
        if market_id not in service.matcher.markets:
            await ws.close(code=1008, reason=f"unknown market {market_id}")
            return
        await ws.accept()
        seq, bids, asks = service.book(market_id, cfg.max_book_depth)
        snapshot = {
            "type": "snapshot",
            "marketId": market_id,
            "seq": seq,
            "bids": [[str(p), str(q)] for p, q in bids],
            "asks": [[str(p), str(q)] for p, q in asks],
        }
        await pump(ws, f"depth:{market_id}", snapshot, "depth")

    @app.websocket("/ws/trades/{market_id}")
    async def ws_trades(ws: WebSocket, market_id: int) -> None:
        """Trades stream: one ``trade`` message per fill."""
        if market_id not in service.matcher.markets:
            await ws.close(code=1008, reason=f"unknown market {market_id}")
            return
        await ws.accept()
        await pump(ws, f"trades:{market_id}", {"type": "subscribed", "marketId": market_id}, "trades")

    @app.websocket("/ws/private")
    async def ws_private(ws: WebSocket, token: str | None = None) -> None:
        """The caller's ``order`` and ``fill`` updates; authenticate with ``?token=`` or a Bearer header."""
        bearer = token or (ws.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        try:
            session = await session_of(bearer)
        except GatewayError as exc:
            await ws.close(code=1008, reason=exc.message[:120])
            return
        await ws.accept()
        await pump(
            ws, f"private:{session.account.lower()}", {"type": "subscribed", "account": session.account}, "private"
        )

    return app
