#!/bin/sh
# Stands in for ssh in `rsync -e bench/rsync-pipe.sh FILE localhost:DEST`: rsync runs
# "rsync-pipe.sh HOST rsync --server ...", and this runs that server command locally, so that the
# transfer uses rsync's remote protocol (delta algorithm, -z compression) over a pipe and
# `rsync --stats` counts the bytes that would cross the network.
shift
exec "$@"
