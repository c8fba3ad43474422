# fish completion for kubectl-checkpoint: save it as
# ~/.config/fish/completions/kubectl-checkpoint.fish. Every candidate comes from
# `kubectl-checkpoint completion --complete-words`, which knows the cluster.
function __kubectl_checkpoint_complete
    set -l words (commandline -opc)[2..-1]
    set -l current (commandline -ct)
    set -l out (kubectl-checkpoint completion --complete-words -- $words "$current" 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    if test (count $out) -eq 0 -a "$directive" = 0
        __fish_complete_path "$current"
        return
    end
    printf '%s\n' $out
end
complete -c kubectl-checkpoint -f -a '(__kubectl_checkpoint_complete)'
