#compdef kubectl-checkpoint
# zsh completion for kubectl-checkpoint: put it on $fpath as _kubectl-checkpoint, or source it
# after compinit. Every candidate comes from `kubectl-checkpoint completion --complete-words`,
# which knows the cluster.
_kubectl-checkpoint() {
    local out directive entry word
    local -a lines described
    out=$(kubectl-checkpoint completion --complete-words -- "${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
    lines=("${(@f)out}")
    directive=${lines[-1]#:}
    for entry in "${(@)lines[1,-2]}"; do
        word=${entry%%$'\t'*}
        word=${word//:/\\:}
        if [[ $entry == *$'\t'* ]]; then
            described+=("$word:${entry#*$'\t'}")
        else
            described+=("$word")
        fi
    done
    if (( ${#described} )); then
        if (( directive & 2 )); then
            _describe 'kubectl-checkpoint' described -S ''
        else
            _describe 'kubectl-checkpoint' described
        fi
    elif (( directive == 0 )); then
        _files
    fi
}
if [ "$funcstack[1]" = "_kubectl-checkpoint" ]; then
    _kubectl-checkpoint "$@"
else
    compdef _kubectl-checkpoint kubectl-checkpoint
fi
