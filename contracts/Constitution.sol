// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConstitution} from "./interfaces/IConstitution.sol";
import {
    ADD_MEMBER,
    SUSPEND_MEMBER,
    REINSTATE_MEMBER,
    AMEND_CONSTITUTION,
    UPDATE_PERMISSIONS,
    REFRESH_TRUST_KEYS,
    VOTE_FOR
} from "./libraries/BuiltinActions.sol";
import {MemberNames} from "./libraries/MemberNames.sol";
import {ConstitutionRules} from "./ConstitutionRules.sol";

/// @title Constitution
/// @notice The consortium's single entry point and policy engine: the member registry, the
/// action registry (scope, implementing module, permission list, voting schema), proposals
/// and votes, and the dispatch of actions to their modules. See docs/constitution.md.
/// @dev Design notes (details in docs/constitution.md):
/// - Every action definition gets a fresh `policyId`. Permissions and voter/veto roles are
///   keyed by `policyId`, so replacing a definition voids its permissions without a loop, and
///   a proposal freezes its voting schema by remembering the `policyId` it opened under.
///   A proposal whose action was redefined meanwhile is `Superseded` and cannot execute.
/// - Voters are frozen at opening without copying them: `Specific` voters are the roles of
///   the (immutable) definition; `All` voters are the members admitted before opening (their
///   admission number `seq` is at most the proposal's `memberSnapshot`) who are still active.
/// - No state-changing path loops over the member set or storage lists, except: the
///   constructor (over the founders), definitions (over the caller-supplied, at most 32 long
///   voter and veto lists and the permission entries), {executeBatch} (over its calldata) and
///   the opening of a `Specific` proposal (one {VoteRequested} per listed voter, at most 32).
/// - While a module runs, `_depth` > `_NOT_ENTERED` and `_activeModule`/`_activeCaller`
///   describe the frame: public entry points refuse to run (no reentrancy) and only the
///   active module may call {executeInternal}. Both frame slots stay non-zero at rest
///   (`_depth` = `_NOT_ENTERED` = 1, `_activeCaller` = `_NO_CALLER`), as in OpenZeppelin's
///   ReentrancyGuard: entering and leaving a frame rewrites non-zero slots (2,900 gas, mostly
///   refunded on restore) instead of setting zero slots (20,000 gas, refund capped).
/// - Capabilities: an Internal action's `callers` get the role bit `_ROLE_CALLER` in the same
///   per-definition role map as voters and vetoes: {executeInternal} reads one slot.
/// - Code pinning: defining a module action records the first 28 bytes of its module's
///   EXTCODEHASH next to the action's `policyId` (one slot, read anyway by every dispatch);
///   every module call compares it first (EXTCODEHASH warms the account the CALL then uses).
///   A caller module needs no pin of its own: it can call {executeInternal} only while it is
///   the active module, i.e. after its own action's pin check.
/// - Delegate keys: a member may register up to `MAX_DELEGATES` addresses that act as it
///   (`_delegates`: key → member). {_principal} resolves a sender to its member once per call;
///   modules and events see the member. A delegate may only send module actions that run at
///   once (no built-in, no proposal, so no vote), and its member's standing applies to it.
/// - The rules of an action definition live in {ConstitutionRules} (deployed by the
///   constructor, an immutable here), only for size: it reverts with this contract's errors.
contract Constitution is IConstitution {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IConstitution
    uint256 public constant MAX_PROPOSAL_PARAMS = 8192;
    /// @inheritdoc IConstitution
    uint256 public constant MAX_DELEGATES = 64;
    /// @dev A margin that means "every voter" (a unanimous vote).
    uint8 private constant _MARGIN_ALL = 255;
    /// @dev Maximum nesting of module calls (a public action plus internal actions).
    uint256 private constant _MAX_DEPTH = 8;
    /// @dev `_depth` at rest: the stored depth is 1 + the number of open module frames, so
    /// that its slot is never zero (see the design notes).
    uint8 private constant _NOT_ENTERED = 1;
    /// @dev `_activeCaller` at rest (never read outside a frame; non-zero for the same reason).
    address private constant _NO_CALLER = address(1);
    /// @dev Voting period of the built-in governance actions defined by the constructor.
    uint32 private constant _DEFAULT_VOTING_PERIOD = 7 days;

    uint8 private constant _ROLE_VOTER = 1;
    uint8 private constant _ROLE_VETO = 2;
    uint8 private constant _ROLE_CALLER = 4;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev A member; account, status, joinedAt and seq share one slot.
    struct MemberRecord {
        address account;
        MemberStatus status;
        uint64 joinedAt;
        uint24 seq; // admission number, from 1
        bytes32 trustKey;
        string name;
    }

    /// @dev One immutable action definition; the first seven fields share one slot.
    struct Policy {
        address module;
        bytes4 selector;
        Scope scope;
        Voters voters;
        uint8 margin;
        bool enabled;
        uint32 votingPeriod;
        address[] voterList;
        address[] vetoList;
        address[] callers;
    }

    /// @dev An action id's current definition and its name.
    struct ActionRecord {
        uint32 policyId;
        bytes28 codeHash; // the module's code hash when the current definition was made
        string name;
    }

    /// @dev A proposal; after action and ref, two packed slots, then the stored params.
    struct Proposal {
        bytes32 action;
        bytes32 ref;
        address proposer;
        uint32 policyId;
        uint64 deadline;
        uint64 openedAt;
        uint24 memberSnapshot;
        uint24 voterCount;
        uint24 required;
        uint24 approvals;
        uint24 rejections;
        ProposalStatus status;
        bool unanimous; // a unanimous vote of All: suspended members keep their voice
        bytes params;
    }

    mapping(address account => MemberRecord) private _members;
    address[] private _memberIndex;
    mapping(bytes32 nameKey => address account) private _nameHolders;

    mapping(bytes32 action => ActionRecord) private _actions;
    bytes32[] private _actionIndex;
    mapping(uint32 policyId => Policy) private _policies;
    mapping(uint32 policyId => mapping(address account => uint8 roles)) private _roles;
    mapping(uint32 policyId => mapping(address account => Permission)) private _permissions;

    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address voter => Ballot)) private _ballots;
    uint256 private _proposalCount;

    address private _genesisAuthority;
    uint32 private _policyCount;
    uint24 private _activeMembers;

    mapping(address delegate => address member) private _delegates;
    mapping(address member => uint256 count) private _delegateCounts;

    /// @dev The checks of an action definition, deployed by the constructor (see {ConstitutionRules}).
    ConstitutionRules private immutable _RULES;

    address private _activeModule;
    uint8 private _depth; // 1 + the number of open module frames (`_NOT_ENTERED` at rest)
    address private _activeCaller; // `_NO_CALLER` at rest

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @notice Founds the consortium with its first members and the built-in actions.
    /// @param founders The founding members: account, trust key, name.
    /// @dev The deployer becomes the genesis authority until it calls {sealGenesis}.
    /// Built-in defaults (every founder holds an open-ended grant on each):
    /// - addMember, suspendMember, reinstateMember, amendConstitution, updatePermissions:
    ///   Public, a vote of All members active at opening, margin 0 (a strict majority), no
    ///   veto, 7 days;
    /// - refreshTrustKeys, voteFor: Public, Any (no vote).
    /// Emits a {MemberAdded} event per founder, then {ActionDefined} and {PermissionSet}
    /// events for the built-ins, all with a zero ref.
    constructor(MemberInit[] memory founders) {
        _genesisAuthority = msg.sender;
        _RULES = new ConstitutionRules();
        (_depth, _activeCaller) = (_NOT_ENTERED, _NO_CALLER);
        uint256 n = founders.length;
        PermissionEntry[] memory grants = new PermissionEntry[](n);
        for (uint256 i = 0; i < n; ++i) {
            _addMember(founders[i], bytes32(0));
            grants[i] = PermissionEntry({account: founders[i].account, canExecute: true, validFrom: 0, validUntil: 0});
        }
        _defineBuiltin("addMember", Voters.All, grants);
        _defineBuiltin("suspendMember", Voters.All, grants);
        _defineBuiltin("reinstateMember", Voters.All, grants);
        _defineBuiltin("amendConstitution", Voters.All, grants);
        _defineBuiltin("updatePermissions", Voters.All, grants);
        _defineBuiltin("refreshTrustKeys", Voters.Any, grants);
        _defineBuiltin("voteFor", Voters.Any, grants);
    }

    /*//////////////////////////////////////////////////////////////
                                GENESIS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IConstitution
    function genesisDefineAction(ActionPolicy calldata policy, PermissionEntry[] calldata permissions)
        external
        returns (bytes32)
    {
        _checkGenesis();
        return _defineAction(policy, permissions, bytes32(0));
    }

    /// @inheritdoc IConstitution
    function genesisSetPermissions(bytes32 actionId, PermissionEntry[] calldata entries) external {
        _checkGenesis();
        _setPermissions(actionId, _requirePolicyId(actionId), entries, bytes32(0));
    }

    /// @inheritdoc IConstitution
    function sealGenesis() external {
        _checkGenesis();
        delete _genesisAuthority;
        emit GenesisSealed(msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                             PUBLIC UPDATE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IConstitution
    function executeAction(bytes32 actionId, bytes calldata params, bytes32 ref)
        external
        returns (bool ok, uint256 proposalId)
    {
        _checkNotExecuting();
        return _execute(msg.sender, actionId, params, ref);
    }

    /// @inheritdoc IConstitution
    function executeBatch(Call[] calldata calls) external returns (Outcome[] memory outcomes) {
        _checkNotExecuting();
        (address member,) = _principal(msg.sender);
        outcomes = new Outcome[](calls.length);
        for (uint256 i = 0; i < calls.length; ++i) {
            Call calldata c = calls[i];
            try this.executeActionAs(msg.sender, c.action, c.params, c.ref) returns (bool ok, uint256 proposalId) {
                outcomes[i].ok = ok;
                outcomes[i].proposalId = proposalId;
            } catch (bytes memory revertData) {
                outcomes[i].reverted = true;
                outcomes[i].revertData = revertData;
                emit ActionReverted(c.ref, c.action, member, i, revertData);
            }
        }
    }

    /// @inheritdoc IConstitution
    function voteFor(uint256 proposalId, bool approve, bytes32 ref) external returns (bool ok) {
        _checkNotExecuting();
        (ok,) = _execute(msg.sender, VOTE_FOR, abi.encode(proposalId, approve), ref);
    }

    /// @inheritdoc IConstitution
    function executeInternal(bytes32 actionId, bytes32 ref, bytes calldata params)
        external
        returns (bytes memory result)
    {
        if (_depth == _NOT_ENTERED || msg.sender != _activeModule) revert ConstitutionUnauthorizedModule(msg.sender);
        ActionRecord storage record = _actions[actionId];
        (uint32 policyId, bytes28 pinned) = (record.policyId, record.codeHash); // one slot
        if (policyId == 0) revert ConstitutionUnknownAction(actionId);
        Policy storage policy = _policies[policyId];
        if (policy.scope != Scope.Internal) revert ConstitutionNotInternalAction(actionId);
        if (!policy.enabled) revert ConstitutionActionDisabled(actionId);
        if (_roles[policyId][msg.sender] & _ROLE_CALLER == 0) revert ConstitutionModuleNotAllowed(actionId, msg.sender);
        address caller = _activeCaller;
        result = _callModule(pinned, policy.module, policy.selector, caller, ref, params);
        emit ActionExecuted(ref, actionId, caller, 0);
    }

    /// @inheritdoc IConstitution
    function executeActionAs(address caller, bytes32 actionId, bytes calldata params, bytes32 ref)
        external
        returns (bool ok, uint256 proposalId)
    {
        if (msg.sender != address(this)) revert ConstitutionUnauthorizedCaller(msg.sender);
        _checkNotExecuting();
        return _execute(caller, actionId, params, ref);
    }

    /// @inheritdoc IConstitution
    function simulateAction(address caller, bytes32 actionId, bytes calldata params, bytes32 ref) external {
        if (msg.sender != address(this)) revert ConstitutionUnauthorizedCaller(msg.sender);
        _checkNotExecuting();
        ActionRecord storage record = _actions[actionId];
        Policy storage policy = _policies[record.policyId];
        _callModule(record.codeHash, policy.module, policy.selector, caller, ref, params);
        revert ConstitutionDryRunSucceeded();
    }

    /// @inheritdoc IConstitution
    function addDelegate(address delegate, bytes32 ref) external {
        _checkNotExecuting();
        _checkStatus(msg.sender, MemberStatus.Active);
        if (delegate == address(0) || delegate == address(this) || _members[delegate].status != MemberStatus.None) {
            revert ConstitutionInvalidDelegate(delegate);
        }
        address holder = _delegates[delegate];
        if (holder != address(0)) revert ConstitutionDelegateTaken(delegate, holder);
        uint256 count = _delegateCounts[msg.sender];
        if (count == MAX_DELEGATES) revert ConstitutionTooManyDelegates(msg.sender, MAX_DELEGATES);
        _delegates[delegate] = msg.sender;
        _delegateCounts[msg.sender] = count + 1;
        emit DelegateAdded(msg.sender, delegate, ref);
    }

    /// @inheritdoc IConstitution
    function removeDelegate(address delegate, bytes32 ref) external {
        _checkNotExecuting();
        if (_delegates[delegate] != msg.sender || delegate == address(0)) revert ConstitutionNotDelegate(delegate, msg.sender);
        delete _delegates[delegate];
        --_delegateCounts[msg.sender];
        emit DelegateRemoved(msg.sender, delegate, ref);
    }

    /*//////////////////////////////////////////////////////////////
                              PUBLIC READ
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IConstitution
    function memberCount() external view returns (uint256) {
        return _memberIndex.length;
    }

    /// @inheritdoc IConstitution
    function activeMemberCount() external view returns (uint256) {
        return _activeMembers;
    }

    /// @inheritdoc IConstitution
    function members(uint256 offset, uint256 limit) external view returns (Member[] memory page) {
        (uint256 start, uint256 end) = _window(offset, limit, _memberIndex.length);
        page = new Member[](end - start);
        for (uint256 i = start; i < end; ++i) {
            page[i - start] = _memberView(_memberIndex[i]);
        }
    }

    /// @inheritdoc IConstitution
    function getMember(address account) external view returns (Member memory) {
        return _memberView(account);
    }

    /// @inheritdoc IConstitution
    function isActiveMember(address account) external view returns (bool) {
        return _members[account].status == MemberStatus.Active;
    }

    /// @inheritdoc IConstitution
    function actionCount() external view returns (uint256) {
        return _actionIndex.length;
    }

    /// @inheritdoc IConstitution
    function actions(uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory ids, ActionPolicy[] memory policies)
    {
        (uint256 start, uint256 end) = _window(offset, limit, _actionIndex.length);
        ids = new bytes32[](end - start);
        policies = new ActionPolicy[](end - start);
        for (uint256 i = start; i < end; ++i) {
            ids[i - start] = _actionIndex[i];
            policies[i - start] = _policyView(_actionIndex[i]);
        }
    }

    /// @inheritdoc IConstitution
    function action(bytes32 actionId) external view returns (ActionPolicy memory) {
        return _policyView(actionId);
    }

    /// @inheritdoc IConstitution
    function policyIdOf(bytes32 actionId) external view returns (uint256) {
        return _actions[actionId].policyId;
    }

    /// @inheritdoc IConstitution
    function permission(bytes32 actionId, address account) external view returns (Permission memory) {
        return _permissions[_actions[actionId].policyId][account];
    }

    /// @inheritdoc IConstitution
    function canExecute(bytes32 actionId, address account) external view returns (DenyReason) {
        return _denyReason(actionId, account);
    }

    /// @inheritdoc IConstitution
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConstitution
    function proposal(uint256 proposalId) external view returns (ProposalView memory v) {
        Proposal storage p = _proposals[proposalId];
        v.action = p.action;
        v.ref = p.ref;
        v.proposer = p.proposer;
        v.policyId = p.policyId;
        v.status = _statusOf(p);
        v.openedAt = p.openedAt;
        v.deadline = p.deadline;
        v.voterCount = p.voterCount;
        v.required = p.required;
        v.approvals = p.approvals;
        v.rejections = p.rejections;
        v.params = p.params;
    }

    /// @inheritdoc IConstitution
    function hasVoted(uint256 proposalId, address voter) external view returns (bool) {
        return _ballots[proposalId][voter] != Ballot.None;
    }

    /// @inheritdoc IConstitution
    function ballotOf(uint256 proposalId, address voter) external view returns (Ballot) {
        return _ballots[proposalId][voter];
    }

    /// @inheritdoc IConstitution
    function isVoter(uint256 proposalId, address account) external view returns (bool) {
        Proposal storage p = _proposals[proposalId];
        return p.status != ProposalStatus.None && _isEligible(p, account);
    }

    /// @inheritdoc IConstitution
    function genesisAuthority() external view returns (address) {
        return _genesisAuthority;
    }

    /// @inheritdoc IConstitution
    function pinnedCodeHash(bytes32 actionId) external view returns (bytes28) {
        return _actions[actionId].codeHash;
    }

    /// @inheritdoc IConstitution
    function isUnanimous(uint256 proposalId) external view returns (bool) {
        return _proposals[proposalId].unanimous;
    }

    /// @inheritdoc IConstitution
    function delegateOf(address account) external view returns (address) {
        return _delegates[account];
    }

    /// @inheritdoc IConstitution
    function delegateCount(address member) external view returns (uint256) {
        return _delegateCounts[member];
    }

    /*//////////////////////////////////////////////////////////////
                          INTERNAL: EXECUTION
    //////////////////////////////////////////////////////////////*/

    /// @dev executeAction sent by `sender` (a member, or a delegate acting as its member, the
    /// `caller`): revert for anyone else; deny a member (event, no revert); refuse a delegate
    /// what only the member's own key may do; open a proposal, or run. A suspended member may
    /// still vote on a unanimous proposal of All (its voice is kept there, see {_quorum}).
    function _execute(address sender, bytes32 actionId, bytes memory params, bytes32 ref)
        private
        returns (bool, uint256)
    {
        address caller;
        {
            DenyReason reason;
            (caller, reason) = _senderDenyReason(sender, actionId);
            if (reason == DenyReason.MemberSuspended && actionId == VOTE_FOR && params.length == 64) {
                (uint256 proposalId,) = abi.decode(params, (uint256, bool));
                if (_proposals[proposalId].unanimous) reason = _policyDenyReason(actionId, caller);
            }
            if (reason != DenyReason.None) {
                emit ActionDenied(ref, actionId, caller, reason);
                return (false, 0);
            }
        }
        ActionRecord storage record = _actions[actionId];
        (uint32 policyId, bytes28 pinned) = (record.policyId, record.codeHash); // one slot
        Policy storage policy = _policies[policyId];
        if (sender != caller && (policy.module == address(0) || policy.voters != Voters.Any)) {
            revert ConstitutionDelegateNotAllowed(sender, actionId);
        }
        if (policy.voters != Voters.Any) {
            return (true, _openProposal(actionId, policyId, policy, caller, ref, params));
        }
        _dispatch(actionId, policy, pinned, caller, ref, params, 0);
        emit ActionExecuted(ref, actionId, caller, 0);
        return (true, 0);
    }

    /// @dev Runs `actionId` for `caller`: a built-in here, otherwise a call to its module.
    function _dispatch(
        bytes32 actionId,
        Policy storage policy,
        bytes28 pinned,
        address caller,
        bytes32 ref,
        bytes memory params,
        uint256 proposalId
    ) private {
        address module = policy.module;
        if (module == address(0)) {
            _runBuiltin(actionId, caller, ref, params, proposalId);
        } else {
            _callModule(pinned, module, policy.selector, caller, ref, params);
        }
    }

    /// @dev Calls `module.selector(caller, ref, params)` inside a new execution frame, after
    /// checking that the module's code hash starts with `pinned` (the action's pin); a revert bubbles
    /// up unchanged. The frame slots are restored to the outer frame's values (at the outermost
    /// level: the non-zero rest values).
    function _callModule(
        bytes28 pinned,
        address module,
        bytes4 selector,
        address caller,
        bytes32 ref,
        bytes memory params
    ) private returns (bytes memory result) {
        bytes32 actual = module.codehash; // warms the account for the call below
        if (bytes28(actual) != pinned) revert ConstitutionModuleCodeChanged(module, pinned, actual);
        address outerModule = _activeModule;
        address outerCaller = _activeCaller;
        uint8 depth = _depth;
        if (depth - _NOT_ENTERED >= _MAX_DEPTH) revert ConstitutionCallDepthExceeded();
        (_activeModule, _depth, _activeCaller) = (module, depth + 1, caller);
        bool success;
        (success, result) = module.call(abi.encodeWithSelector(selector, caller, ref, params));
        if (!success) _bubble(result);
        (_activeModule, _depth, _activeCaller) = (outerModule, depth, outerCaller);
    }

    /// @dev Reverts with `revertData` as it is.
    function _bubble(bytes memory revertData) private pure {
        assembly ("memory-safe") {
            revert(add(revertData, 0x20), mload(revertData))
        }
    }

    /// @dev The built-in actions. `proposalId` is the proposal being executed, or 0. Params are
    /// decoded by the same functions that check a proposal when it opens ({_checkBuiltin}).
    function _runBuiltin(bytes32 actionId, address caller, bytes32 ref, bytes memory params, uint256 proposalId)
        private
    {
        if (actionId == VOTE_FOR) {
            if (params.length != 64) revert ConstitutionInvalidParams(actionId);
            (uint256 id, bool approve) = abi.decode(params, (uint256, bool));
            _voteFor(id, caller, approve, ref);
        } else if (actionId == REFRESH_TRUST_KEYS) {
            _refreshTrustKey(caller, _decodeWord(actionId, params), ref);
        } else if (actionId == ADD_MEMBER) {
            MemberInit memory init = _decodeMember(params);
            _addMember(init, ref);
            _grant(VOTE_FOR, init.account, ref);
            _grant(REFRESH_TRUST_KEYS, init.account, ref);
        } else if (actionId == SUSPEND_MEMBER) {
            _suspendMember(_decodeAccount(actionId, params), ref);
        } else if (actionId == REINSTATE_MEMBER) {
            _reinstateMember(_decodeAccount(actionId, params), ref);
        } else if (actionId == AMEND_CONSTITUTION) {
            (ActionPolicy memory policy, PermissionEntry[] memory permissions) = _decodeAmendment(params);
            if (keccak256(bytes(policy.name)) == AMEND_CONSTITUTION && !_isUnanimousAll(proposalId)) {
                revert ConstitutionProtectedAction(AMEND_CONSTITUTION);
            }
            _defineAction(policy, permissions, ref);
        } else {
            // UPDATE_PERMISSIONS: the only other action with no module (see {ConstitutionRules}).
            (bytes32 target, PermissionEntry[] memory entries) = _decodeUpdate(params);
            _setPermissions(target, _requirePolicyId(target), entries, ref);
        }
    }

    /// @dev Checks, without changing anything, that a proposal for the built-in `actionId`
    /// with `params` would execute now: decodes the params (canonical ABI encoding) and runs
    /// the checks of the action. voteFor is never put to a vote (see {_checkVoting}).
    function _checkBuiltin(bytes32 actionId, bytes memory params) private view {
        if (actionId == ADD_MEMBER) {
            _checkNewMember(_decodeMember(params));
        } else if (actionId == SUSPEND_MEMBER) {
            _checkStatus(_decodeAccount(actionId, params), MemberStatus.Active);
        } else if (actionId == REINSTATE_MEMBER) {
            _checkStatus(_decodeAccount(actionId, params), MemberStatus.Suspended);
        } else if (actionId == AMEND_CONSTITUTION) {
            (ActionPolicy memory policy, PermissionEntry[] memory permissions) = _decodeAmendment(params);
            _RULES.checkPolicy(policy);
            _checkEntries(permissions);
        } else if (actionId == UPDATE_PERMISSIONS) {
            (bytes32 target, PermissionEntry[] memory entries) = _decodeUpdate(params);
            _requirePolicyId(target);
            _checkEntries(entries);
        } else if (actionId == REFRESH_TRUST_KEYS) {
            if (_decodeWord(actionId, params) == bytes32(0)) revert ConstitutionInvalidTrustKey();
        }
    }

    /*//////////////////////////////////////////////////////////////
                       INTERNAL: BUILT-IN PARAMS
    //////////////////////////////////////////////////////////////*/

    /// @dev One 32-byte word, exactly.
    function _decodeWord(bytes32 actionId, bytes memory params) private pure returns (bytes32) {
        if (params.length != 32) revert ConstitutionInvalidParams(actionId);
        return abi.decode(params, (bytes32));
    }

    /// @dev One address, exactly (abi.decode refuses dirty high bits).
    function _decodeAccount(bytes32 actionId, bytes memory params) private pure returns (address) {
        if (params.length != 32) revert ConstitutionInvalidParams(actionId);
        return abi.decode(params, (address));
    }

    /// @dev addMember's `(address account, bytes32 trustKey, string name)`.
    function _decodeMember(bytes memory params) private pure returns (MemberInit memory init) {
        (init.account, init.trustKey, init.name) = abi.decode(params, (address, bytes32, string));
        _checkCanonical(ADD_MEMBER, params, abi.encode(init.account, init.trustKey, init.name));
    }

    /// @dev amendConstitution's `(ActionPolicy policy, PermissionEntry[] permissions)`.
    function _decodeAmendment(bytes memory params)
        private
        pure
        returns (ActionPolicy memory policy, PermissionEntry[] memory entries)
    {
        (policy, entries) = abi.decode(params, (ActionPolicy, PermissionEntry[]));
        _checkCanonical(AMEND_CONSTITUTION, params, abi.encode(policy, entries));
    }

    /// @dev updatePermissions' `(bytes32 action, PermissionEntry[] entries)`; updatePermissions
    /// cannot target itself (only amendConstitution can change its permissions).
    function _decodeUpdate(bytes memory params) private pure returns (bytes32 target, PermissionEntry[] memory entries) {
        (target, entries) = abi.decode(params, (bytes32, PermissionEntry[]));
        _checkCanonical(UPDATE_PERMISSIONS, params, abi.encode(target, entries));
        if (target == UPDATE_PERMISSIONS) revert ConstitutionProtectedAction(target);
    }

    /// @dev `params` must be exactly the ABI encoding of what was decoded from them: no
    /// trailing bytes, no unusual offsets (what a proposal stores is what it means).
    function _checkCanonical(bytes32 actionId, bytes memory params, bytes memory encoded) private pure {
        if (keccak256(params) != keccak256(encoded)) revert ConstitutionInvalidParams(actionId);
    }

    /*//////////////////////////////////////////////////////////////
                          INTERNAL: PROPOSALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Opens a proposal, freezing voters and quorum base; counts the proposer's approval
    /// when it may vote; notifies the remaining voters unless that already decided it.
    /// A proposal that could not execute now is never opened: params are bounded by
    /// {MAX_PROPOSAL_PARAMS}; a built-in's params are decoded and checked; a module action is
    /// dry-run ({simulateAction}) and its error, if any, reverts the opening.
    function _openProposal(
        bytes32 actionId,
        uint32 policyId,
        Policy storage policy,
        address proposer,
        bytes32 ref,
        bytes memory params
    ) private returns (uint256 id) {
        if (params.length > MAX_PROPOSAL_PARAMS) {
            revert ConstitutionParamsTooLong(actionId, params.length, MAX_PROPOSAL_PARAMS);
        }
        bool builtin = policy.module == address(0);
        if (builtin) _checkBuiltin(actionId, params);
        (uint256 voterCount, uint256 required, bool unanimous) = _quorum(actionId, policy, params);
        id = ++_proposalCount;
        Proposal storage p = _proposals[id];
        p.action = actionId;
        p.ref = ref;
        (p.proposer, p.policyId, p.deadline) = (proposer, policyId, uint64(block.timestamp) + policy.votingPeriod);
        p.openedAt = uint64(block.timestamp);
        p.memberSnapshot = uint24(_memberIndex.length);
        p.voterCount = uint24(voterCount);
        p.required = uint24(required);
        p.status = ProposalStatus.Open;
        p.unanimous = unanimous;
        p.params = params;
        _emitProposalOpened(id, p);

        if (_isEligible(p, proposer) && _denyReason(VOTE_FOR, proposer) == DenyReason.None) {
            if (_castVote(id, p, proposer, true, ref)) return id;
        }
        if (!builtin) _dryRun(actionId, proposer, params, ref);
        _requestVotes(id, p, policy);
    }

    /// @dev Runs the module call a proposal would make, in a self-call that always reverts;
    /// bubbles up the module's error, if any (execute-and-revert: nothing remains either way).
    function _dryRun(bytes32 actionId, address proposer, bytes memory params, bytes32 ref) private {
        try this.simulateAction(proposer, actionId, params, ref) {
            // unreachable: simulateAction always reverts
        } catch (bytes memory revertData) {
            if (bytes4(revertData) != ConstitutionDryRunSucceeded.selector) _bubble(revertData);
        }
    }

    /// @dev The quorum base and the approvals required, as frozen at opening. Margin 0 is a
    /// strict majority; a margin above the number of voters means every voter. A unanimous
    /// vote of All (margin `_MARGIN_ALL`, or amendConstitution redefining itself) counts every
    /// member admitted so far, suspended ones included, and needs each one's approval: a
    /// dissenter cannot be outvoted by suspending it first. A proposal in which
    /// amendConstitution redefines itself needs a vote of All.
    function _quorum(bytes32 actionId, Policy storage policy, bytes memory params)
        private
        view
        returns (uint256 voterCount, uint256 required, bool unanimous)
    {
        bool all = policy.voters == Voters.All;
        uint256 margin = policy.margin;
        unanimous = all && margin == _MARGIN_ALL;
        if (actionId == AMEND_CONSTITUTION && _amendsItself(params)) {
            if (!all) revert ConstitutionProtectedAction(AMEND_CONSTITUTION);
            unanimous = true;
        }
        if (unanimous) return (_memberIndex.length, _memberIndex.length, true);
        voterCount = all ? _activeMembers : policy.voterList.length;
        required = margin == 0 ? voterCount / 2 + 1 : (margin < voterCount ? margin : voterCount);
    }

    /// @dev Emits {VoteRequested}: one broadcast for All, one per listed voter (but the
    /// proposer) for Specific.
    function _requestVotes(uint256 id, Proposal storage p, Policy storage policy) private {
        (bytes32 actionId, bytes32 ref, address proposer) = (p.action, p.ref, p.proposer);
        if (policy.voters == Voters.All) {
            emit VoteRequested(id, address(0), actionId, ref);
            return;
        }
        address[] storage voters = policy.voterList;
        for (uint256 i = 0; i < voters.length; ++i) {
            address voter = voters[i];
            if (voter != proposer) emit VoteRequested(id, voter, actionId, ref);
        }
    }

    function _emitProposalOpened(uint256 id, Proposal storage p) private {
        emit ProposalOpened(
            id, p.ref, p.action, p.proposer, p.policyId, p.voterCount, p.required, p.deadline, p.params
        );
    }

    /// @dev The built-in voteFor: checks the proposal and the voter, then counts the vote.
    function _voteFor(uint256 id, address voter, bool approve, bytes32 ref) private {
        Proposal storage p = _proposals[id];
        ProposalStatus status = _statusOf(p);
        if (status == ProposalStatus.None) revert ConstitutionUnknownProposal(id);
        if (status == ProposalStatus.Expired) revert ConstitutionProposalExpired(id, p.deadline);
        if (status != ProposalStatus.Open) revert ConstitutionProposalNotOpen(id, status);
        if (!_isEligible(p, voter)) revert ConstitutionNotVoter(id, voter);
        if (_ballots[id][voter] != Ballot.None) revert ConstitutionAlreadyVoted(id, voter);
        _castVote(id, p, voter, approve, ref);
    }

    /// @dev Records a vote, then decides (the seed's internal approveAction): a veto rejects;
    /// reaching the margin executes the stored call once (status set first); a margin out of
    /// reach rejects. Returns whether the proposal was decided.
    function _castVote(uint256 id, Proposal storage p, address voter, bool approve, bytes32 ref)
        private
        returns (bool decided)
    {
        _ballots[id][voter] = approve ? Ballot.Approve : Ballot.Reject;
        uint256 approvals = p.approvals;
        uint256 rejections = p.rejections;
        bool veto;
        if (approve) {
            p.approvals = uint24(++approvals);
        } else {
            p.rejections = uint24(++rejections);
            veto = _roles[p.policyId][voter] & _ROLE_VETO != 0;
        }
        emit VoteCast(id, voter, ref, approve, veto, approvals, rejections);

        uint256 required = p.required;
        if (!veto && approvals >= required) {
            p.status = ProposalStatus.Executed;
            _executeProposal(id, p);
            return true;
        }
        if (veto || p.voterCount - rejections < required) {
            p.status = ProposalStatus.Rejected;
            emit ProposalRejected(id, p.ref, p.action, veto ? voter : address(0));
            return true;
        }
        return false;
    }

    /// @dev Runs the stored call of proposal `id` (its status already `Executed`).
    function _executeProposal(uint256 id, Proposal storage p) private {
        bytes32 actionId = p.action;
        _dispatch(actionId, _policies[p.policyId], _actions[actionId].codeHash, p.proposer, p.ref, p.params, id);
        emit ProposalExecuted(id, p.ref, actionId);
        emit ActionExecuted(p.ref, actionId, p.proposer, id);
    }

    /// @dev The stored status, with `Open` refined into `Superseded` or `Expired`.
    function _statusOf(Proposal storage p) private view returns (ProposalStatus status) {
        status = p.status;
        if (status == ProposalStatus.Open) {
            if (_actions[p.action].policyId != p.policyId) return ProposalStatus.Superseded;
            if (block.timestamp > p.deadline) return ProposalStatus.Expired;
        }
    }

    /// @dev Whether `account` is one of the voters frozen when `p` opened: a listed voter of
    /// the definition (`Specific`), or a member admitted before opening and still active
    /// (`All`) — active or suspended for a unanimous vote of All.
    function _isEligible(Proposal storage p, address account) private view returns (bool) {
        uint32 policyId = p.policyId;
        if (_policies[policyId].voters == Voters.All) {
            MemberRecord storage m = _members[account];
            uint256 seq = m.seq;
            return seq != 0 && seq <= p.memberSnapshot && (p.unanimous || m.status == MemberStatus.Active);
        }
        return _roles[policyId][account] & _ROLE_VOTER != 0;
    }

    /// @dev Whether proposal `id` is a unanimous vote of All that every voter approved.
    function _isUnanimousAll(uint256 id) private view returns (bool) {
        if (id == 0) return false;
        Proposal storage p = _proposals[id];
        return p.unanimous && p.approvals == p.voterCount;
    }

    /// @dev Whether amendConstitution `params` redefine amendConstitution itself.
    function _amendsItself(bytes memory params) private pure returns (bool) {
        (ActionPolicy memory policy,) = abi.decode(params, (ActionPolicy, PermissionEntry[]));
        return keccak256(bytes(policy.name)) == AMEND_CONSTITUTION;
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL: POLICY
    //////////////////////////////////////////////////////////////*/

    /// @dev Defines (or replaces) an action as a new definition; pins the code of its module.
    /// Emits {ActionDefined}, {ModulePinned} for a module action, and a {PermissionSet} per entry.
    function _defineAction(ActionPolicy memory policy, PermissionEntry[] memory permissions, bytes32 ref)
        private
        returns (bytes32 actionId)
    {
        actionId = _RULES.checkPolicy(policy);
        uint32 policyId = ++_policyCount;
        Policy storage p = _policies[policyId];
        (p.module, p.selector, p.scope, p.voters) = (policy.module, policy.selector, policy.scope, policy.voters);
        (p.margin, p.enabled, p.votingPeriod) = (policy.margin, policy.enabled, policy.votingPeriod);
        mapping(address => uint8) storage roles = _roles[policyId];
        for (uint256 i = 0; i < policy.voterList.length; ++i) {
            address voter = policy.voterList[i];
            roles[voter] = _ROLE_VOTER;
            p.voterList.push(voter);
        }
        for (uint256 i = 0; i < policy.vetoList.length; ++i) {
            address vetoer = policy.vetoList[i];
            roles[vetoer] |= _ROLE_VETO;
            p.vetoList.push(vetoer);
        }
        for (uint256 i = 0; i < policy.callers.length; ++i) {
            address caller = policy.callers[i];
            roles[caller] |= _ROLE_CALLER;
            p.callers.push(caller);
        }

        ActionRecord storage record = _actions[actionId];
        if (record.policyId == 0) {
            record.name = policy.name;
            _actionIndex.push(actionId);
        }
        bytes28 codeHash = bytes28(policy.module.codehash); // zero for a built-in
        (record.policyId, record.codeHash) = (policyId, codeHash);
        emit ActionDefined(actionId, ref, policyId, policy);
        if (codeHash != 0) emit ModulePinned(actionId, policy.module, ref, codeHash);
        _setPermissions(actionId, policyId, permissions, ref);
    }

    /// @dev Defines a built-in action with the constructor's defaults.
    function _defineBuiltin(string memory name, Voters voters, PermissionEntry[] memory grants) private {
        _defineAction(
            ActionPolicy({
                name: name,
                scope: Scope.Public,
                module: address(0),
                selector: bytes4(0),
                enabled: true,
                voters: voters,
                margin: 0,
                votingPeriod: voters == Voters.Any ? 0 : _DEFAULT_VOTING_PERIOD,
                voterList: new address[](0),
                vetoList: new address[](0),
                callers: new address[](0)
            }),
            grants,
            bytes32(0)
        );
    }

    /// @dev Every permission entry names an account and, when it grants, a valid window.
    function _checkEntries(PermissionEntry[] memory entries) private pure {
        for (uint256 i = 0; i < entries.length; ++i) {
            PermissionEntry memory e = entries[i];
            if (e.account == address(0) || (e.validUntil != 0 && e.validFrom > e.validUntil)) {
                revert ConstitutionInvalidPermission(e.account);
            }
        }
    }

    /// @dev Writes permission entries on definition `policyId` of `actionId`.
    function _setPermissions(bytes32 actionId, uint32 policyId, PermissionEntry[] memory entries, bytes32 ref)
        private
    {
        _checkEntries(entries);
        mapping(address => Permission) storage perms = _permissions[policyId];
        for (uint256 i = 0; i < entries.length; ++i) {
            PermissionEntry memory e = entries[i];
            if (e.canExecute) {
                perms[e.account] = Permission({canExecute: true, validFrom: e.validFrom, validUntil: e.validUntil});
                emit PermissionSet(actionId, e.account, ref, true, e.validFrom, e.validUntil);
            } else {
                delete perms[e.account];
                emit PermissionSet(actionId, e.account, ref, false, 0, 0);
            }
        }
    }

    /// @dev An open-ended grant of `actionId` to `account`. Emits {PermissionSet}.
    function _grant(bytes32 actionId, address account, bytes32 ref) private {
        _permissions[_actions[actionId].policyId][account] = Permission({canExecute: true, validFrom: 0, validUntil: 0});
        emit PermissionSet(actionId, account, ref, true, 0, 0);
    }

    /// @dev Why `account` may not execute `actionId` now (`None` if it may).
    function _denyReason(bytes32 actionId, address account) private view returns (DenyReason) {
        MemberStatus status = _members[account].status;
        if (status == MemberStatus.None) return DenyReason.NotMember;
        if (status == MemberStatus.Suspended) return DenyReason.MemberSuspended;
        return _policyDenyReason(actionId, account);
    }

    /// @dev The member `sender` acts as, and why that member may not execute `actionId` now
    /// (`None` if it may); reverts for a sender that is neither a member nor a delegate.
    function _senderDenyReason(address sender, bytes32 actionId)
        private
        view
        returns (address caller, DenyReason reason)
    {
        MemberStatus status;
        (caller, status) = _principal(sender);
        reason = status == MemberStatus.Suspended ? DenyReason.MemberSuspended : _policyDenyReason(actionId, caller);
    }

    /// @dev The checks of {_denyReason} after the caller's standing: action and permission.
    function _policyDenyReason(bytes32 actionId, address account) private view returns (DenyReason) {
        uint32 policyId = _actions[actionId].policyId;
        if (policyId == 0) return DenyReason.UnknownAction;
        Policy storage policy = _policies[policyId];
        if (!policy.enabled) return DenyReason.ActionDisabled;
        if (policy.scope == Scope.Internal) return DenyReason.InternalAction;
        Permission memory perm = _permissions[policyId][account];
        if (!perm.canExecute) return DenyReason.NoPermission;
        if (perm.validFrom != 0 && block.timestamp < perm.validFrom) return DenyReason.PermissionNotYetValid;
        if (perm.validUntil != 0 && block.timestamp > perm.validUntil) return DenyReason.PermissionExpired;
        return DenyReason.None;
    }

    /// @dev The current definition id of `actionId`; reverts if the action is unknown.
    function _requirePolicyId(bytes32 actionId) private view returns (uint32 policyId) {
        policyId = _actions[actionId].policyId;
        if (policyId == 0) revert ConstitutionUnknownAction(actionId);
    }

    function _checkGenesis() private view {
        address authority = _genesisAuthority;
        if (authority == address(0)) revert ConstitutionGenesisSealed();
        if (msg.sender != authority) revert ConstitutionGenesisUnauthorized(msg.sender);
    }

    function _checkNotExecuting() private view {
        if (_depth != _NOT_ENTERED) revert ConstitutionReentrantCall();
    }

    /// @dev The member `sender` acts as (itself, or the member it is a delegate of) and that
    /// member's status. Anyone else is reverted (cheaply, nothing recorded); members' denials
    /// are events. A delegate's member is never `None` (members are suspended, never removed).
    function _principal(address sender) private view returns (address member, MemberStatus status) {
        (member, status) = (sender, _members[sender].status);
        if (status == MemberStatus.None) {
            member = _delegates[sender];
            if (member == address(0)) revert ConstitutionNotMember(sender);
            status = _members[member].status;
        }
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL: MEMBERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks that `init` can be admitted now; returns the name's uniqueness key.
    function _checkNewMember(MemberInit memory init) private view returns (bytes32 nameKey) {
        if (init.account == address(0)) revert ConstitutionInvalidMember(init.account);
        if (_members[init.account].status != MemberStatus.None) revert ConstitutionMemberExists(init.account);
        address principal = _delegates[init.account];
        if (principal != address(0)) revert ConstitutionDelegateTaken(init.account, principal);
        if (init.trustKey == bytes32(0)) revert ConstitutionInvalidTrustKey();
        bool valid;
        (valid, nameKey) = MemberNames.key(init.name);
        if (!valid) revert ConstitutionInvalidName(init.name);
        address holder = _nameHolders[nameKey];
        if (holder != address(0)) revert ConstitutionNameTaken(init.name, holder);
    }

    /// @dev Admits a member. Emits a {MemberAdded} event.
    function _addMember(MemberInit memory init, bytes32 ref) private {
        bytes32 nameKey = _checkNewMember(init);
        uint256 seq = _memberIndex.length + 1;
        if (seq > type(uint24).max) revert ConstitutionInvalidMember(init.account);
        _members[init.account] = MemberRecord({
            account: init.account,
            status: MemberStatus.Active,
            joinedAt: uint64(block.timestamp),
            seq: uint24(seq),
            trustKey: init.trustKey,
            name: init.name
        });
        _memberIndex.push(init.account);
        _nameHolders[nameKey] = init.account;
        ++_activeMembers;
        emit MemberAdded(init.account, ref, init.name, init.trustKey);
    }

    /// @dev Reverts unless `account` is a member with status `expected` (Active or Suspended).
    function _checkStatus(address account, MemberStatus expected) private view {
        MemberStatus status = _members[account].status;
        if (status == MemberStatus.None) revert ConstitutionNotMember(account);
        if (status != expected) {
            if (status == MemberStatus.Suspended) revert ConstitutionMemberSuspended(account);
            revert ConstitutionMemberNotSuspended(account);
        }
    }

    /// @dev Suspends an active member. Emits a {MemberSuspended} event.
    function _suspendMember(address account, bytes32 ref) private {
        _checkStatus(account, MemberStatus.Active);
        _members[account].status = MemberStatus.Suspended;
        --_activeMembers;
        emit MemberSuspended(account, ref);
    }

    /// @dev Reinstates a suspended member. Emits a {MemberReinstated} event.
    function _reinstateMember(address account, bytes32 ref) private {
        _checkStatus(account, MemberStatus.Suspended);
        _members[account].status = MemberStatus.Active;
        ++_activeMembers;
        emit MemberReinstated(account, ref);
    }

    /// @dev Replaces `account`'s trust key. Emits a {TrustKeyRefreshed} event.
    function _refreshTrustKey(address account, bytes32 trustKey, bytes32 ref) private {
        if (trustKey == bytes32(0)) revert ConstitutionInvalidTrustKey();
        _members[account].trustKey = trustKey;
        emit TrustKeyRefreshed(account, ref, trustKey);
    }

    function _memberView(address account) private view returns (Member memory) {
        MemberRecord storage m = _members[account];
        return Member({account: m.account, status: m.status, joinedAt: m.joinedAt, trustKey: m.trustKey, name: m.name});
    }

    function _policyView(bytes32 actionId) private view returns (ActionPolicy memory view_) {
        ActionRecord storage record = _actions[actionId];
        if (record.policyId == 0) return view_;
        Policy storage p = _policies[record.policyId];
        view_.name = record.name;
        (view_.scope, view_.module, view_.selector, view_.enabled) = (p.scope, p.module, p.selector, p.enabled);
        (view_.voters, view_.margin, view_.votingPeriod) = (p.voters, p.margin, p.votingPeriod);
        view_.voterList = p.voterList;
        view_.vetoList = p.vetoList;
        view_.callers = p.callers;
    }

    /// @dev The page [start, end) of a list of `total` items.
    function _window(uint256 offset, uint256 limit, uint256 total) private pure returns (uint256, uint256) {
        if (offset >= total) return (total, total);
        uint256 end = limit > total - offset ? total : offset + limit;
        return (offset, end);
    }
}
