"""What belongs to the person a privacy request names: one customer (with the customers past a
guardrail that hold nothing but her values, core.scope_splinters), and nobody else.

The request's identifier resolves to the live customer that owns it (following merges), or, when
nobody owns it any more, to the live customers holding it. An email or phone that another live
customer holds too, one that is not hers (core.scope_splinters: a value or a name of its own), names
two people (a family inbox, a household phone): the scope is ``ambiguous`` and nobody is erased or
exported; the person is named by a value only she holds, or by a record id (``source``). Everything
stored under that customer is the person's: the profile, the source snapshots, what was pushed, the
identifiers it owns, the tombstones of customers merged into it and of its records deleted at their
vendor (core.scope_tombstones), and the markers saying it holds a value someone else owns. Its
identifiers split in two:

* **exclusive**: an email or phone no other live customer holds. These are suppressed after the
  erasure, and used to find the person's quarantined records and dead letters.
* **shared**: a value another live customer also holds (a household phone, a company email), known
  from the key's IDENT item (owned by the other customer) or its holder markers (``PutHolder``), each
  checked against the live customer it leads to. The erased customer is unlinked from it (its IDENT
  item, if the erased customer owned it, and its own snapshots go), but it is never deleted from the
  other customer, never used to find more records or people, never suppressed, never sent to a tool.

Tools are asked by the ids of the records the customer holds (``source`` identifiers), and by the
records our pushes created there (``PUSHED#`` remote ids, for connectors that can map them), never
by a value. A request that matches no customer has the request's own identifier as its only scope.
Her split-off customers are scoped the same way (``PersonScope.splinters``) and erased after her.

Who holds a value is core.scope_holders, the customers merged into hers core.scope_merged, the
deletes in their order core.erasure_plan; their names are exported from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from core.connector import Connector
from core.erasure_plan import plan_erasure
from core.identity import IdentityPolicy
from core.mailbox import folded_email_key, mailbox_key
from core.ports import CustomerState, ProfileStore, PushedState, ReadsTombstones, SyncStateStore
from core.privacy_store import ErasureStep, ErasureStore, ItemKey
from core.schema import Identifier
from core.scope_holders import _is_tombstone, _own_mailboxes, _shared, holding_mailbox, locate, stale_markers
from core.scope_merged import absorbed_customers, owned_identifiers
from core.scope_reads import ScopeReads
from core.scope_splinters import own_splinters, widest_holder
from core.scope_tombstones import retired_from, retired_tombstones
from core.tool_erasure import ErasesPushedRecords

#: The kinds of identifier that name a person and that several people may hold.
NAMING_KINDS = ("email", "phone")


@dataclass
class PersonScope:
    """Everything of one person a request found (see the module docstring)."""

    request: Identifier
    customer_id: str | None = None
    state: CustomerState | None = None
    absorbed: dict[str, tuple[int, list[ItemKey]]] = field(default_factory=dict)
    """Customers merged into this one: their tombstone's version and their items."""
    items: list[ItemKey] = field(default_factory=list)
    owned: list[str] = field(default_factory=list)
    exclusive: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    """The keys of the customer's source records (``hubspot:contact:123``)."""
    holder_items: list[ItemKey] = field(default_factory=list)
    tombstones: list[str] = field(default_factory=list)
    """The ``source#`` keys of the tombstones of the person's records deleted at their vendor
    (core.scope_tombstones): deleted with the customer, their record ids suppressed."""
    pushed: list[PushedState] = field(default_factory=list)
    mailboxes: list[str] = field(default_factory=list)
    """The mailboxes (core.mailbox) of the exclusive emails that no other live customer holds a
    spelling of: suppressed with them, so every spelling the provider delivers there is."""
    splinters: list[PersonScope] = field(default_factory=list)
    """The scopes of the person's split-off customers (core.scope_splinters): customers past a
    guardrail that hold nothing but her values. Erased with her, their record ids suppressed."""
    ambiguous: bool = False
    """The request names an email or phone held by another live customer who is not one of the
    person's (a family inbox, a household phone), or a spelling no customer holds of a mailbox
    several customers hold other spellings of: nobody is erased or exported (core.privacy)."""

    @property
    def found(self) -> bool:
        return self.customer_id is not None

    def suppression_keys(self) -> list[str]:
        """The identifier keys to suppress: the exclusive ones and every source record id, the ids
        her child records (orders, charges) name as their owner included: her account at the tool,
        which a pull may read after the erasure without any value of hers the erasure knew."""
        sources = (f"source#{key}" for key in self.sources)
        snapshots = self.state.snapshots.values() if self.state is not None else ()
        owners = (f"source#{snap.owner}" for snap in snapshots if snap.owner)
        theirs = (k for s in self.splinters for k in s.suppression_keys())
        return sorted({*self.exclusive, *self.mailboxes, *sources, *owners, *self.tombstones, *theirs})

    def finding_keys(self) -> set[str]:
        """The keys that find the person's copies elsewhere (quarantine, dead letters)."""
        return set(self.suppression_keys())

    def table_items(self) -> list[ItemKey]:
        """Every item of the table this scope erases, quarantined records aside."""
        keys = list(self.items)
        keys += [ItemKey(f"IDENT#{k}", "IDENT") for k in (*self.owned, *self.tombstones)]
        for _, absorbed_items in self.absorbed.values():
            keys += absorbed_items
        keys += self.holder_items
        keys += [k for s in self.splinters for k in s.table_items()]
        return sorted(set(keys), key=lambda k: (k.pk, k.sk))

    def tool_targets(self, tool: str, connector: Connector | None) -> list[Identifier]:
        """What to ask ``tool`` to erase: the ids of the person's records there (see the module
        docstring), or the request's identifier when the request matched no customer (a record id:
        of its own tool only)."""
        if not self.found:
            # A record id is asked of its own tool only: another tool's ids are not its.
            own = self.request.kind != "source" or self.request.value.startswith(f"{tool}:")
            return [self.request] if own else []
        found: dict[str, Identifier] = {}
        for key in self.sources:
            if key.startswith(f"{tool}:"):
                found[f"source#{key}"] = Identifier(kind="source", value=key)
        for key in self._own_owners():
            if key.startswith(f"{tool}:"):
                found.setdefault(f"source#{key}", Identifier(kind="source", value=key))
        if isinstance(connector, ErasesPushedRecords) and not self._pushed_on_a_shared_value(connector):
            for pushed in self.pushed:
                if pushed.destination == tool and pushed.remote_id:
                    ident = connector.pushed_identifier(pushed.remote_id)
                    if ident is not None:
                        found.setdefault(ident.key, ident)
        for splinter in self.splinters:
            found.update((i.key, i) for i in splinter.tool_targets(tool, connector))
        return [found[k] for k in sorted(found)]

    def _own_owners(self) -> list[str]:
        """The owners her children of her own person name (a converted lead's contact, the record she
        became: a child that keeps its emails or phones beside its owner link, core.normalise's
        ``same_person_as_owner``), whether or not that record is stored yet: the tool is asked to
        erase it too (attack23). An order's owner (a child holding its owner link alone) is the buyer
        she may not be, as the holders read it (core.identity_holders): never asked for it."""
        snapshots = self.state.snapshots.values() if self.state is not None else ()
        return sorted(
            {
                snap.owner
                for snap in snapshots
                if snap.owner and any(i.kind != "source" for i in snap.identifiers)
            }
        )

    def _pushed_on_a_shared_value(self, connector: Connector) -> bool:
        """Whether a push to ``connector`` matched on a value another customer holds too (a company
        billing address): the tool upserts on it, so the record the push reached stands for every
        customer with that value, and is theirs as much as the person's: never erased for them."""
        profile = self.state.profile if self.state is not None else None
        if profile is None or not self.shared:
            return False
        try:
            payload = connector.from_profile(profile)
        except Exception:  # a profile the tool takes no payload for was matched on nothing
            return False
        if payload is None:
            return False
        key = payload.match_key.strip()
        return bool({f"email#{key.lower()}", f"phone#{key}"} & set(self.shared))

    def pushed_addresses(self, tool: str, connector: Connector | None) -> list[Identifier]:
        """The address each push to ``tool`` matched on, when the person held it alone: a push may
        have created a record there that no id we keep names (asked without the duty to find it)."""
        profile = self.state.profile if self.state is not None else None
        if connector is None or profile is None or not any(p.destination == tool for p in self.pushed):
            return []
        try:
            payload = connector.from_profile(profile)
        except Exception:  # a profile the tool takes no payload for was pushed nothing matching
            return []
        key = f"email#{payload.match_key.strip().lower()}" if payload is not None else ""
        return [Identifier.from_key(key)] if key in self.exclusive else []


def find_scope(
    identifier: Identifier,
    *,
    profiles: ProfileStore,
    erasure: ErasureStore,
    sync_state: SyncStateStore | None = None,
    policy: IdentityPolicy | None = None,
    spellings: Sequence[Identifier] = (),
) -> PersonScope:
    """The person the request names and everything that is theirs (see the module docstring).

    ``spellings``: other spellings of the email the request names that a record may be stored under
    (core.privacy_request.stored_spellings: the key of before the upgrade that folds it). The
    customer each names is the person's too, whole, as if the request named it alone; its scope is
    ``ambiguous`` when that spelling is (a family inbox of then), and nobody is erased."""
    scope = _find_scope(identifier, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy)
    for spelling in spellings:
        if scope.ambiguous or spelling == identifier:
            continue
        other = _find_scope(
            spelling, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy
        )
        scope = _seeded(scope, other)
    return scope


def _seeded(scope: PersonScope, other: PersonScope) -> PersonScope:
    """``scope`` with ``other`` (the scope of another spelling of what the request names) taken in:
    its customer and its split-off customers as the person's split-off customers; when nobody holds
    that spelling, its values to suppress; ``ambiguous`` when it is."""
    if other.ambiguous:
        return replace(scope, ambiguous=True)
    if not scope.found and other.found:  # the spelling named first is held by nobody: swap them
        scope, other = replace(other, request=scope.request), scope
    if not other.found:
        return replace(
            scope,
            exclusive=sorted({*scope.exclusive, *other.exclusive} - set(scope.shared)),
            mailboxes=sorted({*scope.mailboxes, *other.mailboxes}),
            holder_items=sorted({*scope.holder_items, *other.holder_items}, key=lambda k: (k.pk, k.sk)),
        )
    taken = {scope.customer_id, *scope.absorbed, *(s.customer_id for s in scope.splinters)}
    splinters = list(scope.splinters)
    for part in (other, *other.splinters):
        if part.customer_id not in taken:
            taken.add(part.customer_id)
            splinters.append(replace(part, splinters=[]))
    return replace(scope, splinters=splinters)


def _find_scope(
    identifier: Identifier,
    *,
    profiles: ProfileStore,
    erasure: ErasureStore,
    sync_state: SyncStateStore | None = None,
    policy: IdentityPolicy | None = None,
) -> PersonScope:
    policy = policy or IdentityPolicy()
    # Read-only: each keyed read asked once for all her split-off customers' scopes (core.scope_reads).
    profiles, erasure = cast(ProfileStore, ScopeReads(profiles)), cast(ErasureStore, ScopeReads(erasure))
    state = locate(profiles, identifier)
    if state is None and identifier.kind == "email":
        # Another spelling of the mailbox (``annsmith@gmail.com`` for ``ann.smith@gmail.com``).
        spelled = holding_mailbox(profiles, erasure, identifier.key)
        if len(spelled) > 1:
            return PersonScope(identifier, ambiguous=True)
        state = spelled[0] if spelled else None
    if state is None and identifier.kind in NAMING_KINDS and not policy.is_blocked(identifier):
        # Nobody owns it (its owner was erased by a record id, say): the customers holding it do.
        # Never a blocklisted value (a noreply@ address): it names no one.
        state = widest_holder(profiles, erasure, identifier.key)
    if state is None and identifier.kind == "source":
        # A retired record's id: the customer it was retired from, if it lives (core.scope_tombstones).
        retired_by = retired_from(profiles, identifier.key)
        if len(retired_by) > 1:
            return PersonScope(identifier, ambiguous=True)
        state = retired_by[0] if retired_by else None
    if state is None:
        scope = PersonScope(identifier)
        if identifier.kind == "source":
            # A record id nobody holds (not pulled yet, or retired): the person's own, suppressed
            # like an address nobody holds, so that the record pulled after the erasure is dropped;
            # a retired record's tombstone, which names it in clear, is deleted (core.privacy).
            retired = isinstance(profiles, ReadsTombstones) and _is_tombstone(profiles, identifier.key)
            (scope.tombstones if retired else scope.exclusive).append(identifier.key)
        elif not policy.is_blocked(identifier):
            shared = _shared(profiles, erasure, None, [identifier.key])
            (scope.shared if shared else scope.exclusive).append(identifier.key)
            scope.mailboxes = _own_mailboxes(profiles, erasure, None, scope.exclusive)
            scope.holder_items = stale_markers(profiles, erasure, [*scope.exclusive, *scope.mailboxes])
        return scope
    scope = scope_of(
        identifier, state, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy
    )
    if identifier.kind not in NAMING_KINDS or identifier.key not in scope.shared:
        return scope
    # Another live customer holds the value, and is not one of hers: the owner may be a customer
    # split off from the person who holds it with more (her values and names include its).
    widest = widest_holder(profiles, erasure, identifier.key)
    if widest is not None and widest.customer_id != scope.customer_id:
        other = scope_of(
            identifier, widest, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy
        )
        if identifier.key not in other.shared:
            return other
    # Two people hold it (a family inbox, a household phone): whoever got it first is not
    # necessarily the one asking. Nobody is erased or exported (core.privacy).
    scope.ambiguous = True
    return scope


def scope_of(
    identifier: Identifier,
    state: CustomerState,
    *,
    profiles: ProfileStore,
    erasure: ErasureStore,
    sync_state: SyncStateStore | None,
    policy: IdentityPolicy,
    splinters: bool = True,
) -> PersonScope:
    """The scope of the customer ``state`` (read again by an erasure that lost a race); with the
    scopes of its split-off customers unless ``splinters`` is False (core.scope_splinters)."""
    cid = state.customer_id
    absorbed = absorbed_customers(profiles, erasure, cid, state)
    held = {i.key for snap in state.snapshots.values() for i in snap.identifiers if i.kind != "source"}
    # An address stored before the upgrade that folds it (core.mailbox.folded_email_key) is hers in
    # its folded spelling too: the customer holding that is one of hers, and it is suppressed with her.
    values = sorted(held | {f for k in held if (f := folded_email_key(k)) is not None})
    usable = [k for k in values if not policy.is_blocked(Identifier.from_key(k))]
    mine = {cid, *absorbed}
    split_off = (
        {s.customer_id: s for s in own_splinters(profiles, erasure, state, usable, mine)} if splinters else {}
    )
    shared = _shared(profiles, erasure, cid, usable, {*absorbed, *split_off})
    mailboxes = sorted({m for k in values if (m := mailbox_key(k)) is not None})
    markers = erasure.holders([*values, *mailboxes])
    # With the markers under her values, every marker naming her customers under any value: a
    # record that dropped an address keeps its marker, and markers written ahead of a changeset that
    # was killed name her for values she never held (attack31p); each holds a value in its key.
    named = erasure.held_markers(sorted(mine))
    holder_items = sorted(
        {
            *(
                ItemKey(f"IDENT#{key}", f"HOLDER#{holder}")
                for key, holders in markers.items()
                for holder in holders & mine
            ),
            *(ItemKey(f"IDENT#{key}", f"HOLDER#{holder}") for holder, keys in named.items() for key in keys),
        },
        key=lambda k: (k.pk, k.sk),
    )
    items = erasure.customer_items(cid)
    pushed: list[PushedState] = []
    for owner, keys in [(cid, items), *((a, absorbed[a][1]) for a in sorted(absorbed))]:
        for key in keys:
            if key.sk.startswith("PUSHED#") and sync_state is not None:
                destination = key.sk[len("PUSHED#") :]
                pushed.extend(sync_state.get_pushed(destination, [owner]).values())
    exclusive = sorted(set(usable) - shared)
    own_mailboxes = _own_mailboxes(profiles, erasure, cid, exclusive, {*absorbed, *split_off})
    # Markers under her values that no customer holding them names any more (a record that dropped
    # the value left its customer's, one deleted since too): they hold her value in their key.
    stale = stale_markers(profiles, erasure, [*exclusive, *own_mailboxes])
    return PersonScope(
        request=identifier,
        customer_id=cid,
        state=state,
        absorbed=absorbed,
        items=items,
        owned=owned_identifiers(profiles, cid, state),
        exclusive=exclusive,
        shared=sorted(shared),
        sources=sorted(state.snapshots),
        holder_items=sorted({*holder_items, *stale}, key=lambda k: (k.pk, k.sk)),
        tombstones=retired_tombstones(profiles, mine),
        pushed=pushed,
        mailboxes=own_mailboxes,
        splinters=[
            scope_of(
                identifier,
                other,
                profiles=profiles,
                erasure=erasure,
                sync_state=sync_state,
                policy=policy,
                splinters=False,
            )
            for other in split_off.values()
        ],
    )


def plan_scope(scope: PersonScope, limit: int) -> list[ErasureStep]:
    """``plan_erasure`` for everything a scope holds in the table (nothing for nobody)."""
    if scope.customer_id is None:
        return []
    return plan_erasure(
        scope.customer_id,
        scope.state,
        scope.items,
        scope.owned,
        scope.absorbed,
        limit,
        scope.holder_items,
        scope.tombstones,
    )


__all__ = [
    "PersonScope",
    "absorbed_customers",
    "find_scope",
    "holding_mailbox",
    "locate",
    "owned_identifiers",
    "plan_erasure",
    "plan_scope",
    "scope_of",
]
