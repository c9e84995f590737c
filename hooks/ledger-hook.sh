# --- git-ledger: shared part of the hooks (inlined into each hook by the installer) ---
# Hooks record into the ledger without slowing git down: they write one small event file
# into the ledger's spool (temp file + rename) and start a detached drainer that turns
# events into entries. A hook never fails or blocks git: on any problem it prints one line
# on stderr, notes the failure for `git ledger hooks status`, and git goes on.

ledger_fail() {
    echo "git-ledger: $1 (git goes on; see: git ledger hooks status)" >&2
    if [ -n "$ledger_common" ]; then
        printf '%s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ledger_hook" "$1" \
            >>"$ledger_common/ledger-hooks.log" 2>/dev/null
    fi
}

# ledger_spool_write DIR FILE-CONTENT: write an event atomically into DIR; 0 on success.
# The temporary name holds our pid (unique among live processes); the final name too, with
# a counter past any event a dead process with the same pid left behind.
ledger_spool_write() {
    { [ -d "$1" ] || mkdir -p "$1" 2>/dev/null; } || return 1
    ledger_tmp="$1/.tmp-$$"
    ledger_n=0
    while [ -e "$1/ev-$$-$ledger_n" ]; do ledger_n=$((ledger_n + 1)); done
    if printf '%s\n' "$2" >"$ledger_tmp" 2>/dev/null &&
        mv -f "$ledger_tmp" "$1/ev-$$-$ledger_n" 2>/dev/null; then
        return 0
    fi
    rm -f "$ledger_tmp" 2>/dev/null
    return 1
}

# ledger_capture HOOK STDIN-TEXT [HOOK ARGS...]
ledger_capture() {
    ledger_hook=$1
    ledger_input=$2
    shift 2
    ledger_common=
    ledger_gitdir=
    ledger_head=
    ledger_ref=
    # Fast path, without starting git: a plain repository whose HEAD names a loose ref
    # (as it does right after a commit). Anything else asks git.
    if [ -z "${GIT_DIR:-}" ] && [ -d .git ] && [ ! -f .git/commondir ] &&
        read -r ledger_ref 2>/dev/null <.git/HEAD; then
        case $ledger_ref in
        "ref: refs/"*) read -r ledger_head 2>/dev/null <".git/${ledger_ref#ref: }" ;;
        *) ledger_head=$ledger_ref ;;
        esac
        case $ledger_head in
        *[!0-9a-f]* | "") ledger_head= ;;
        *) [ ${#ledger_head} -eq 40 ] || [ ${#ledger_head} -eq 64 ] || ledger_head= ;;
        esac
        [ -n "$ledger_head" ] && ledger_gitdir=$PWD/.git && ledger_common=$ledger_gitdir
    fi
    if [ -z "$ledger_gitdir" ]; then
        ledger_info=$(git rev-parse --absolute-git-dir --git-common-dir HEAD 2>/dev/null)
        ledger_gitdir=${ledger_info%%
*}
        ledger_rest=${ledger_info#*
}
        ledger_common=${ledger_rest%%
*}
        ledger_head=${ledger_rest#*
}
        if [ -z "$ledger_gitdir" ] || [ "$ledger_gitdir" = "$ledger_info" ]; then
            ledger_common=
            ledger_fail "cannot find the repository of this $ledger_hook"
            return 0
        fi
        case $ledger_common in /*) ;; *) ledger_common=$PWD/$ledger_common ;; esac
        ledger_ref=
        read -r ledger_ref 2>/dev/null <"$ledger_gitdir/HEAD"
    fi
    # During a rebase HEAD is detached; the branch being rebased is named here.
    ledger_rebasing=
    case $ledger_ref in
    "ref: "*) ;;
    *) read -r ledger_rebasing 2>/dev/null <"$ledger_gitdir/rebase-merge/head-name" ||
        read -r ledger_rebasing 2>/dev/null <"$ledger_gitdir/rebase-apply/head-name" ;;
    esac
    ledger_dir=${GIT_LEDGER_DIR:-$GIT_LEDGER_DEFAULT_DIR}
    case $ledger_dir in /*) ;; *) ledger_dir=$PWD/$ledger_dir ;; esac
    ledger_event="git-ledger-event 1
hook $ledger_hook
cwd $PWD
git_dir $ledger_gitdir
common_dir $ledger_common
head $ledger_head
head_ref $ledger_ref
rebasing $ledger_rebasing
session ${GIT_LEDGER_SESSION:-}
agent ${GIT_LEDGER_AGENT:-}"
    for ledger_arg in "$@"; do
        ledger_event="$ledger_event
arg $ledger_arg"
    done
    ledger_event="$ledger_event
stdin
$ledger_input"
    ledger_spool=$ledger_dir/ledger-spool
    if [ -d "$ledger_dir" ]; then
        if ! ledger_spool_write "$ledger_spool" "$ledger_event"; then
            # The ledger is there but refuses the event: keep it beside the repository.
            ledger_spool=$ledger_common/ledger-spool
            if ledger_spool_write "$ledger_spool" "$ledger_event"; then
                ledger_fail "cannot write to the ledger at $ledger_dir; event kept in the repository"
            else
                ledger_fail "cannot record this $ledger_hook: $ledger_dir and $ledger_common are not writable"
                return 0
            fi
        fi
    else
        # No ledger yet: the drainer creates it from the repository's spool.
        ledger_spool=$ledger_common/ledger-spool
        if ! ledger_spool_write "$ledger_spool" "$ledger_event"; then
            ledger_fail "cannot record this $ledger_hook: $ledger_common is not writable"
            return 0
        fi
    fi
    if [ ! -x "$GIT_LEDGER_PYTHON" ]; then
        ledger_fail "event queued, but $GIT_LEDGER_PYTHON is gone: run git ledger hooks install again"
        return 0
    fi
    # A drainer that is still running picks the event up: no need to start another.
    ledger_pid=
    if read -r ledger_pid 2>/dev/null <"$ledger_spool/.drainer.pid" &&
        [ -n "$ledger_pid" ] && kill -0 "$ledger_pid" 2>/dev/null; then
        return 0
    fi
    (
        cd / || exit 0
        if [ -n "$GIT_LEDGER_PYTHONPATH" ]; then
            PYTHONPATH=$GIT_LEDGER_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}
            export PYTHONPATH
        fi
        unset GIT_INDEX_FILE GIT_DIR GIT_WORK_TREE GIT_PREFIX
        nohup "$GIT_LEDGER_PYTHON" -m ledger --ledger "$ledger_dir" hooks drain \
            --git-dir "$ledger_common" --detach </dev/null >/dev/null 2>&1 &
    ) || ledger_fail "cannot start the ledger drainer ($GIT_LEDGER_PYTHON)"
    return 0
}

# ledger_chain ARGS...: run the hook that was here before git-ledger, with the same
# arguments and stdin ($ledger_stdin); its exit status is the hook's.
ledger_chain() {
    ledger_chained="$0.ledger-chained"
    [ -f "$ledger_chained" ] || return 0
    if [ -n "$ledger_stdin" ]; then
        printf '%s' "$ledger_stdin" | "$ledger_chained" "$@"
    else
        "$ledger_chained" "$@" </dev/null
    fi
}
# --- end of the shared part ---
