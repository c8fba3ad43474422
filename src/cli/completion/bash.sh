# bash completion for kubectl-checkpoint. Load it with
#   source <(kubectl-checkpoint completion bash)
# or put it in bash-completion's directory. Every candidate comes from
# `kubectl-checkpoint completion --complete-words`, which knows the cluster.
_kubectl_checkpoint() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local -a words
    read -ra words <<<"$line"
    [[ "$line" =~ [[:space:]]$ ]] && words+=("")
    local out
    out=$(kubectl-checkpoint completion --complete-words -- "${words[@]:1}" 2>/dev/null) || return 0
    local directive="${out##*:}"
    local typed="${words[${#words[@]}-1]}"
    local cur="${COMP_WORDS[COMP_CWORD]}"
    # bash splits words at `:` (NODE:PATH): offer only what follows the split.
    local prefix="${typed%"$cur"}"
    COMPREPLY=()
    local entry word
    while IFS= read -r entry; do
        [[ "$entry" == :* || -z "$entry" ]] && continue
        word="${entry%%$'\t'*}"
        COMPREPLY+=("${word#"$prefix"}")
    done <<<"$out"
    if (( directive & 2 )); then
        compopt -o nospace 2>/dev/null
    fi
    if (( ${#COMPREPLY[@]} == 0 && directive == 0 )); then
        compopt -o default 2>/dev/null
    fi
    return 0
}
complete -F _kubectl_checkpoint kubectl-checkpoint
