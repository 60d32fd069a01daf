// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IConstitution
/// @notice The consortium's governance contract and single entry point. Members send
/// {executeAction}; the Constitution checks the action's policy (scope, permission list,
/// voting schema), then runs the action itself (built-in actions) or dispatches it to the
/// module that implements it. Holds the types, events and errors shared with its clients.
///
/// Action ids are `keccak256(bytes(name))`. Built-in actions and the ABI encoding of their
/// `params` (each is `abi.encode(...)` of the listed values):
///
/// | name                | params                                                        |
/// | ------------------- | ------------------------------------------------------------- |
/// | `addMember`         | `(address account, bytes32 trustKey, string name)`            |
/// | `suspendMember`     | `(address account)`                                           |
/// | `reinstateMember`   | `(address account)`                                           |
/// | `amendConstitution` | `(ActionPolicy policy, PermissionEntry[] permissions)`        |
/// | `updatePermissions` | `(bytes32 action, PermissionEntry[] entries)`                 |
/// | `refreshTrustKeys`  | `(bytes32 trustKey)`                                          |
/// | `voteFor`           | `(uint256 proposalId, bool approve)`                          |
///
/// Module actions receive `abi.encodeWithSelector(selector, caller, ref, params)`: a module
/// entry point is `function f(address caller, bytes32 ref, bytes calldata params) external`.
///
/// Integrity rules (docs/constitution.md): an Internal action runs only for the modules listed
/// in its `callers`; a module's code hash is pinned when an action admits it and a module whose
/// code changed is refused; a proposal's params are decoded and validated (built-ins) or
/// dry-run (modules) when it opens; a unanimous vote of All keeps the voice of suspended
/// members; non-members are reverted, members' denials are on record.
interface IConstitution {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A member's standing. `None` means "not a member".
    enum MemberStatus {
        None,
        Active,
        Suspended
    }

    /// @notice Who may call an action: `Public` = members, through {executeAction};
    /// `Internal` = only the module of an action being executed, through {executeInternal}.
    enum Scope {
        Public,
        Internal
    }

    /// @notice Who votes on an action. `Any`: nobody, the permitted caller's request is
    /// enough (margin 0 or 1, no veto list). `Specific`: the listed voters. `All`: every member
    /// active when the proposal opens.
    enum Voters {
        Any,
        Specific,
        All
    }

    /// @notice A proposal's state. `Expired` (past the deadline) and `Superseded` (its action
    /// was redefined by amendConstitution since it opened) are derived by the views from an
    /// `Open` proposal; neither can execute any more.
    enum ProposalStatus {
        None,
        Open,
        Executed,
        Rejected,
        Expired,
        Superseded
    }

    /// @notice Why {executeAction} refused a caller (reported by {ActionDenied} and
    /// {canExecute}), in the order the checks run. `None` means "allowed".
    enum DenyReason {
        None,
        NotMember,
        MemberSuspended,
        UnknownAction,
        ActionDisabled,
        InternalAction,
        NoPermission,
        PermissionNotYetValid,
        PermissionExpired
    }

    /// @notice A vote recorded for a voter on a proposal.
    enum Ballot {
        None,
        Approve,
        Reject
    }

    /// @notice A consortium member as stored on chain.
    struct Member {
        address account;
        MemberStatus status;
        uint64 joinedAt;
        bytes32 trustKey;
        string name;
    }

    /// @notice A founding member passed to the constructor.
    struct MemberInit {
        address account;
        bytes32 trustKey;
        string name;
    }

    /// @notice The definition of an action (what amendConstitution replaces as a whole).
    /// @param name The action name, 1 to 64 bytes; the action id is `keccak256(bytes(name))`.
    /// @param scope `Public` or `Internal`.
    /// @param module The contract implementing the action; zero for a built-in action.
    /// @param selector The module entry point `f(address caller, bytes32 ref, bytes params)`.
    /// @param enabled A disabled action is denied (`ActionDisabled`).
    /// @param voters The voting schema's voter kind.
    /// @param margin Minimum approvals: 0 = a strict majority of the voters (n / 2 + 1);
    /// otherwise `margin`, capped at the number of voters (255 = every voter).
    /// @param votingPeriod Seconds a proposal stays open (required when a vote is needed).
    /// @param voterList The voters for `Specific` (1 to 32, distinct); empty otherwise.
    /// @param vetoList Voters whose reject vote is a veto (at most 32, distinct; for
    /// `Specific` a subset of `voterList`); empty for `Any`.
    /// @param callers For an `Internal` action: the modules that may call it through
    /// {executeInternal} (at most 32 distinct contracts, never the Constitution); empty for a
    /// `Public` action. An Internal action with no callers cannot run.
    struct ActionPolicy {
        string name;
        Scope scope;
        address module;
        bytes4 selector;
        bool enabled;
        Voters voters;
        uint8 margin;
        uint32 votingPeriod;
        address[] voterList;
        address[] vetoList;
        address[] callers;
    }

    /// @notice A member's permission on an action. Windows are inclusive; 0 = open.
    struct Permission {
        bool canExecute;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice A grant (`canExecute` true) or revocation (false, window ignored) for `account`.
    struct PermissionEntry {
        address account;
        bool canExecute;
        uint64 validFrom;
        uint64 validUntil;
    }

    /// @notice One call of {executeBatch}: the arguments of {executeAction}.
    struct Call {
        bytes32 action;
        bytes params;
        bytes32 ref;
    }

    /// @notice The outcome of one call of {executeBatch}.
    /// @param ok Executed or proposal opened (as {executeAction}'s `ok`).
    /// @param reverted The call reverted (its effects were undone); `revertData` holds the
    /// revert data (a custom error). `ok` and `reverted` both false: denied.
    /// @param proposalId The proposal opened by the call, or 0.
    struct Outcome {
        bool ok;
        bool reverted;
        uint256 proposalId;
        bytes revertData;
    }

    /// @notice A proposal as returned by {proposal}.
    /// @param policyId The action definition the proposal was opened under.
    /// @param voterCount The quorum base frozen at opening.
    /// @param required The approvals needed, frozen at opening.
    struct ProposalView {
        bytes32 action;
        bytes32 ref;
        address proposer;
        uint256 policyId;
        ProposalStatus status;
        uint64 openedAt;
        uint64 deadline;
        uint256 voterCount;
        uint256 required;
        uint256 approvals;
        uint256 rejections;
        bytes params;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `account` is already a member.
    error ConstitutionMemberExists(address account);
    /// @notice `account` is not a member of the consortium.
    error ConstitutionNotMember(address account);
    /// @notice The zero address cannot be a member.
    error ConstitutionInvalidMember(address account);
    /// @notice A trust key must be a non-zero 32-byte public key.
    error ConstitutionInvalidTrustKey();
    /// @notice `name` is not a valid member name: 1 to 64 bytes, no control character, no
    /// leading, trailing or doubled space.
    error ConstitutionInvalidName(string name);
    /// @notice `name` is already the name of member `holder` (names compare case-insensitively).
    error ConstitutionNameTaken(string name, address holder);
    /// @notice `account` is already suspended.
    error ConstitutionMemberSuspended(address account);
    /// @notice `account` is not suspended: there is nothing to reinstate.
    error ConstitutionMemberNotSuspended(address account);
    /// @notice No action is defined under `action`.
    error ConstitutionUnknownAction(bytes32 action);
    /// @notice `action` is disabled.
    error ConstitutionActionDisabled(bytes32 action);
    /// @notice An action name must be 1 to 64 bytes long.
    error ConstitutionInvalidActionName();
    /// @notice `module` cannot implement `action`: built-ins have no module and are Public;
    /// other actions need a contract (not the Constitution) and a non-zero selector.
    error ConstitutionInvalidModule(bytes32 action, address module);
    /// @notice The voting schema of `action` breaks a rule (see {ActionPolicy}).
    error ConstitutionInvalidVoting(bytes32 action);
    /// @notice A voter or veto list holds `count` addresses; at most `max` are allowed.
    error ConstitutionTooManyVoters(uint256 count, uint256 max);
    /// @notice A permission entry for `account` is invalid (zero account, validFrom > validUntil).
    error ConstitutionInvalidPermission(address account);
    /// @notice `action` cannot be changed this way: updatePermissions cannot touch its own
    /// policy, amendConstitution can redefine itself only by a unanimous vote of All members.
    error ConstitutionProtectedAction(bytes32 action);
    /// @notice No proposal has id `proposalId`.
    error ConstitutionUnknownProposal(uint256 proposalId);
    /// @notice Proposal `proposalId` is `status`, not open for votes.
    error ConstitutionProposalNotOpen(uint256 proposalId, ProposalStatus status);
    /// @notice Proposal `proposalId` expired at `deadline`; it can no longer execute.
    error ConstitutionProposalExpired(uint256 proposalId, uint64 deadline);
    /// @notice `account` is not among the voters frozen when `proposalId` opened.
    error ConstitutionNotVoter(uint256 proposalId, address account);
    /// @notice `voter` already voted on `proposalId`.
    error ConstitutionAlreadyVoted(uint256 proposalId, address voter);
    /// @notice `caller` is not the module of the action being executed.
    error ConstitutionUnauthorizedModule(address caller);
    /// @notice `module` is not among the callers of the Internal action `action`.
    error ConstitutionModuleNotAllowed(bytes32 action, address module);
    /// @notice The code of `module` changed since the action was defined: its code hash is now
    /// `actual`; `pinned` holds the first 28 bytes of the hash admitted by the definition.
    error ConstitutionModuleCodeChanged(address module, bytes28 pinned, bytes32 actual);
    /// @notice `caller` cannot be a caller of `action`: the action is Public, or `caller` is
    /// zero, not a contract, the Constitution, or listed twice.
    error ConstitutionInvalidCaller(bytes32 action, address caller);
    /// @notice The params of a proposal for `action` are `length` bytes; at most `max` are kept.
    error ConstitutionParamsTooLong(bytes32 action, uint256 length, uint256 max);
    /// @notice The params of the built-in `action` are not the ABI encoding of its arguments.
    error ConstitutionInvalidParams(bytes32 action);
    /// @notice The dry run of a proposal's module call succeeded (caught internally, never
    /// surfaces from a public entry point).
    error ConstitutionDryRunSucceeded();
    /// @notice `action` is Public: it cannot be invoked from inside another action.
    error ConstitutionNotInternalAction(bytes32 action);
    /// @notice A public entry point was called while an action is executing.
    error ConstitutionReentrantCall();
    /// @notice Module calls nest deeper than allowed.
    error ConstitutionCallDepthExceeded();
    /// @notice `caller` may not call this function (it is reserved to the Constitution itself).
    error ConstitutionUnauthorizedCaller(address caller);
    /// @notice The genesis phase is over: policy changes only through actions.
    error ConstitutionGenesisSealed();
    /// @notice `caller` is not the genesis authority (the deployer).
    error ConstitutionGenesisUnauthorized(address caller);
    /// @notice `delegate` cannot be a delegate: the zero address, the Constitution, or a member.
    error ConstitutionInvalidDelegate(address delegate);
    /// @notice `account` is already a delegate of `member` (an address acts for one member only).
    error ConstitutionDelegateTaken(address account, address member);
    /// @notice `member` already has `max` delegates.
    error ConstitutionTooManyDelegates(address member, uint256 max);
    /// @notice `delegate` is not a delegate of `member`.
    error ConstitutionNotDelegate(address delegate, address member);
    /// @notice Delegate `delegate` sent `action`, which only its member's own key may send: a
    /// built-in action (voteFor, governance, trust keys) or an action that opens a proposal.
    error ConstitutionDelegateNotAllowed(address delegate, bytes32 action);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `member` registered `delegate` as a key that acts for it.
    event DelegateAdded(address indexed member, address indexed delegate, bytes32 indexed ref);
    /// @notice `member` revoked its delegate `delegate`.
    event DelegateRemoved(address indexed member, address indexed delegate, bytes32 indexed ref);
    /// @notice `account` joined the consortium as `name` with encryption key `trustKey`.
    event MemberAdded(address indexed account, bytes32 indexed ref, string name, bytes32 trustKey);

    /// @notice `account` replaced its trust key with `trustKey`.
    event TrustKeyRefreshed(address indexed account, bytes32 indexed ref, bytes32 trustKey);

    /// @notice `account` was suspended: it can no longer execute actions, nor vote except on
    /// unanimous votes of All (see {isVoter}).
    event MemberSuspended(address indexed account, bytes32 indexed ref);

    /// @notice `account`, suspended, was reinstated: it is an active member again.
    event MemberReinstated(address indexed account, bytes32 indexed ref);

    /// @notice The definition of `action` admitted `module` with the code whose hash starts with
    /// `codeHash` (28 bytes): the Constitution calls it for `action` only while that holds.
    event ModulePinned(bytes32 indexed action, address indexed module, bytes32 indexed ref, bytes28 codeHash);

    /// @notice `action` was defined (or replaced) as definition `policyId`. Permissions of an
    /// earlier definition are void; {PermissionSet} events for the new one follow.
    event ActionDefined(bytes32 indexed action, bytes32 indexed ref, uint256 indexed policyId, ActionPolicy policy);

    /// @notice `account`'s permission on `action` was set (revoked when `canExecute` is false).
    event PermissionSet(
        bytes32 indexed action,
        address indexed account,
        bytes32 indexed ref,
        bool canExecute,
        uint64 validFrom,
        uint64 validUntil
    );

    /// @notice The genesis phase ended; `authority` can no longer change policy directly.
    event GenesisSealed(address indexed authority);

    /// @notice `caller` executed `action` (directly: `proposalId` 0; or as the decision of
    /// proposal `proposalId`, `caller` being its proposer and `ref` its ref).
    event ActionExecuted(bytes32 indexed ref, bytes32 indexed action, address indexed caller, uint256 proposalId);

    /// @notice `caller` was refused `action` for `reason` (a {DenyReason}); nothing changed.
    event ActionDenied(bytes32 indexed ref, bytes32 indexed action, address indexed caller, DenyReason reason);

    /// @notice Call number `index` of an {executeBatch} reverted with `revertData`; its effects
    /// were undone, the other calls stand.
    event ActionReverted(
        bytes32 indexed ref, bytes32 indexed action, address indexed caller, uint256 index, bytes revertData
    );

    /// @notice `proposer` asked for `action`; a vote decides. `required` approvals out of
    /// `voterCount` voters are needed before `deadline`.
    event ProposalOpened(
        uint256 indexed proposalId,
        bytes32 indexed ref,
        bytes32 indexed action,
        address proposer,
        uint256 policyId,
        uint256 voterCount,
        uint256 required,
        uint64 deadline,
        bytes params
    );

    /// @notice `voter` is asked to vote on `proposalId`. `voter` is the zero address when the
    /// voters are All members active at opening (one broadcast instead of one event each).
    event VoteRequested(uint256 indexed proposalId, address indexed voter, bytes32 action, bytes32 ref);

    /// @notice `voter` voted on `proposalId` (`ref`: the vote's own ref); running tallies.
    event VoteCast(
        uint256 indexed proposalId,
        address indexed voter,
        bytes32 indexed ref,
        bool approve,
        bool veto,
        uint256 approvals,
        uint256 rejections
    );

    /// @notice Proposal `proposalId` (ref `ref`) reached its margin and its action executed.
    event ProposalExecuted(uint256 indexed proposalId, bytes32 indexed ref, bytes32 indexed action);

    /// @notice Proposal `proposalId` was rejected: vetoed by `vetoedBy`, or (zero) because
    /// the remaining voters can no longer reach the margin.
    event ProposalRejected(uint256 indexed proposalId, bytes32 indexed ref, bytes32 indexed action, address vetoedBy);

    /*//////////////////////////////////////////////////////////////
                                GENESIS
    //////////////////////////////////////////////////////////////*/

    /// @notice Defines or replaces an action during genesis (the deploy script turns
    /// consortium.yaml into these calls). Same rules and effects as amendConstitution, except
    /// that any action, amendConstitution and updatePermissions included, may be redefined.
    /// @param policy The action definition.
    /// @param permissions The permission list of the new definition.
    /// @return action The action id, `keccak256(bytes(policy.name))`.
    /// @dev Requirements: the caller is the deployer and {sealGenesis} was not called.
    /// Emits an {ActionDefined} event and a {PermissionSet} event per entry, with a zero ref.
    function genesisDefineAction(ActionPolicy calldata policy, PermissionEntry[] calldata permissions)
        external
        returns (bytes32 action);

    /// @notice Sets permission entries during genesis (any action, updatePermissions included).
    /// @param action The action id.
    /// @param entries Grants and revocations.
    /// @dev Requirements: as {genesisDefineAction}; `action` is defined.
    /// Emits a {PermissionSet} event per entry, with a zero ref.
    function genesisSetPermissions(bytes32 action, PermissionEntry[] calldata entries) external;

    /// @notice Ends the genesis phase for good: from now on only actions change policy.
    /// @dev Requirements: the caller is the deployer; not yet sealed. Emits {GenesisSealed}.
    function sealGenesis() external;

    /*//////////////////////////////////////////////////////////////
                                ACTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice The seed's executeAction: asks the Constitution to run `action` for the caller.
    /// @param action The action id, `keccak256(bytes(name))`.
    /// @param params The action's arguments, ABI-encoded (see the table above for built-ins).
    /// @param ref The caller's correlation id, carried by every event the action emits.
    /// @return ok False when the caller was denied (then {ActionDenied} is emitted and nothing
    /// else changes); true when the action executed or a proposal was opened.
    /// @return proposalId The proposal opened for a vote, or 0 when executed directly.
    /// @dev A member's denial never reverts; a non-member's call reverts with
    /// {ConstitutionNotMember} (nothing recorded). A business failure (in a built-in or a module)
    /// reverts the whole transaction with its custom error. A proposal is opened only if its
    /// params are at most {MAX_PROPOSAL_PARAMS} bytes and would execute now: a built-in's params
    /// are decoded and checked, a module action is dry-run (its error reverts the opening). When the voting schema needs a vote, the
    /// proposer's request counts as its approval if it is an eligible voter holding voteFor,
    /// and the action executes at once if that already reaches the margin.
    /// Emits {ActionExecuted}, {ActionDenied} or {ProposalOpened} (+ {VoteCast}, {VoteRequested}).
    function executeAction(bytes32 action, bytes calldata params, bytes32 ref)
        external
        returns (bool ok, uint256 proposalId);

    /// @notice Runs several actions in one transaction, each checked on its own. A non-member's
    /// batch reverts at once ({ConstitutionNotMember}). A denied call is reported and the batch
    /// goes on; a reverting call is undone alone (it runs in an
    /// isolated self-call), reported by {ActionReverted}, and the batch goes on.
    /// @param calls The actions to run, in order.
    /// @return outcomes One outcome per call, in order (also readable from the events).
    function executeBatch(Call[] calldata calls) external returns (Outcome[] memory outcomes);

    /// @notice Votes on a proposal: the built-in action voteFor, i.e. exactly
    /// `executeAction(keccak256("voteFor"), abi.encode(proposalId, approve), ref)`.
    /// @param proposalId The proposal.
    /// @param approve True to approve, false to reject (a veto when the voter is on the veto list).
    /// @param ref The vote's correlation id.
    /// @return ok False when the caller was denied the voteFor action.
    /// @dev Requirements (reverting): the proposal exists, is open, not expired, not superseded;
    /// the caller was a voter at opening and has not voted. A vote that reaches the margin
    /// executes the proposal's action in this transaction (its failure reverts the vote).
    function voteFor(uint256 proposalId, bool approve, bytes32 ref) external returns (bool ok);

    /// @notice Runs an Internal action on behalf of the action being executed. The module
    /// receives the original caller, `ref` and `params`.
    /// @param action An Internal, enabled action.
    /// @param ref The correlation id to pass on.
    /// @param params The internal action's arguments.
    /// @return result The internal module's return data.
    /// @dev Requirements: the caller is the module currently executing (depth > 0); `action`
    /// is Internal, enabled, and lists the caller among its `callers`
    /// ({ConstitutionModuleNotAllowed}); its module's code is the pinned code
    /// ({ConstitutionModuleCodeChanged}). Emits {ActionExecuted} (caller: the original member).
    function executeInternal(bytes32 action, bytes32 ref, bytes calldata params)
        external
        returns (bytes memory result);

    /// @notice The isolation step of {executeBatch}: {executeAction} as sent by `caller` (the
    /// batch's sender: a member, or a delegate acting for its member).
    /// @dev Requirements: called by the Constitution itself.
    function executeActionAs(address caller, bytes32 action, bytes calldata params, bytes32 ref)
        external
        returns (bool ok, uint256 proposalId);

    /// @notice The dry run of a module action put to a vote: calls the module as the proposal
    /// would, then reverts with {ConstitutionDryRunSucceeded} (or the module's error), so that
    /// nothing it did remains.
    /// @dev Requirements: called by the Constitution itself, while opening a proposal.
    function simulateAction(address caller, bytes32 action, bytes calldata params, bytes32 ref) external;

    /*//////////////////////////////////////////////////////////////
                               READ API
    //////////////////////////////////////////////////////////////*/

    /// @notice Number of members ever admitted (active and suspended).
    function memberCount() external view returns (uint256);

    /// @notice Number of active members.
    function activeMemberCount() external view returns (uint256);

    /// @notice Members in admission order, `limit` at most from `offset` (paginate, never loop).
    /// @param offset Index of the first member to return.
    /// @param limit Maximum number of members to return.
    /// @return page The members found; shorter than `limit` at the end of the list.
    function members(uint256 offset, uint256 limit) external view returns (Member[] memory page);

    /// @notice The member record of `account` (status `None` if it is not a member).
    function getMember(address account) external view returns (Member memory);

    /// @notice Whether `account` is a member in good standing.
    function isActiveMember(address account) external view returns (bool);

    /// @notice Number of defined actions (built-ins included).
    function actionCount() external view returns (uint256);

    /// @notice Actions in definition order, `limit` at most from `offset`.
    /// @return ids The action ids.
    /// @return policies Their current definitions.
    function actions(uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory ids, ActionPolicy[] memory policies);

    /// @notice The current definition of action `actionId` (empty name if unknown).
    function action(bytes32 actionId) external view returns (ActionPolicy memory policy);

    /// @notice The id of the current definition of `actionId` (0 if unknown).
    function policyIdOf(bytes32 actionId) external view returns (uint256);

    /// @notice `account`'s permission on the current definition of `actionId`.
    function permission(bytes32 actionId, address account) external view returns (Permission memory);

    /// @notice Whether `account` may execute `actionId` now: `None`, or why it would be denied.
    function canExecute(bytes32 actionId, address account) external view returns (DenyReason);

    /// @notice Number of proposals ever opened; ids run from 1 to this number.
    function proposalCount() external view returns (uint256);

    /// @notice Proposal `proposalId` with its tallies and (derived) status.
    function proposal(uint256 proposalId) external view returns (ProposalView memory);

    /// @notice Whether `voter` voted on `proposalId`.
    function hasVoted(uint256 proposalId, address voter) external view returns (bool);

    /// @notice The vote of `voter` on `proposalId`.
    function ballotOf(uint256 proposalId, address voter) external view returns (Ballot);

    /// @notice Whether `account` may vote on `proposalId` as one of the voters frozen at
    /// opening (`Specific`: listed; `All`: admitted before opening and still active; a
    /// unanimous vote of All: admitted before opening, active or suspended).
    function isVoter(uint256 proposalId, address account) external view returns (bool);

    /// @notice The genesis authority (the deployer), or zero once genesis is sealed.
    function genesisAuthority() external view returns (address);

    /// @notice The first 28 bytes of the code hash of `action`'s module, pinned when the
    /// current definition was made (zero for a built-in or an unknown action).
    function pinnedCodeHash(bytes32 action) external view returns (bytes28);

    /// @notice Whether proposal `proposalId` is a unanimous vote of All (margin `all`, or
    /// amendConstitution redefining itself): every member admitted before it opened, suspended
    /// or not, counts and must approve.
    function isUnanimous(uint256 proposalId) external view returns (bool);

    /// @notice The largest `params` a proposal may hold, in bytes.
    function MAX_PROPOSAL_PARAMS() external view returns (uint256);

    /*//////////////////////////////////////////////////////////////
                               DELEGATES
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers `delegate` as a signing key of the caller: from now on an
    /// {executeAction} or {executeBatch} sent by `delegate` runs as if the caller had sent it
    /// (modules receive the member as `caller`; the events name the member). A delegate spreads
    /// a member's transactions over more senders (a node's pool limits pending transactions per
    /// sender); it carries the member's day-to-day operations, never its governance voice: a
    /// delegate may send only module actions that run at once (no vote), never a built-in
    /// (voteFor, addMember, amendConstitution, refreshTrustKeys …) nor an action that opens a
    /// proposal ({ConstitutionDelegateNotAllowed}), and it cannot add or remove delegates.
    /// While the member is suspended its delegates are denied as it is.
    /// @param delegate The key to register: not zero, not the Constitution, not a member, not
    /// another member's (or this member's) delegate.
    /// @param ref The caller's correlation id, carried by the event.
    /// @dev Requirements: the caller is an active member ({ConstitutionNotMember},
    /// {ConstitutionMemberSuspended}) with fewer than {MAX_DELEGATES} delegates
    /// ({ConstitutionTooManyDelegates}); `delegate` is valid ({ConstitutionInvalidDelegate},
    /// {ConstitutionDelegateTaken}). No vote: a delegate adds no permission to its member.
    /// Emits a {DelegateAdded} event.
    function addDelegate(address delegate, bytes32 ref) external;

    /// @notice Revokes the caller's delegate `delegate`; it is refused from the next block on.
    /// @param delegate One of the caller's delegates.
    /// @param ref The caller's correlation id, carried by the event.
    /// @dev Requirements: `delegate` is a delegate of the caller ({ConstitutionNotDelegate});
    /// a suspended member may revoke. Emits a {DelegateRemoved} event.
    function removeDelegate(address delegate, bytes32 ref) external;

    /// @notice The member `account` is a delegate of, or zero.
    /// @param account Any address.
    /// @return member The member `account` acts for, or the zero address.
    function delegateOf(address account) external view returns (address member);

    /// @notice The number of delegates `member` has registered (the list is in the
    /// {DelegateAdded} / {DelegateRemoved} events).
    /// @param member A member's account.
    /// @return count Its current number of delegates.
    function delegateCount(address member) external view returns (uint256 count);

    /// @notice The most delegates a member may hold at once.
    function MAX_DELEGATES() external view returns (uint256);
}
