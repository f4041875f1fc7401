#!/bin/sh
# Run once by Patroni on the node that bootstraps a shard, with a connection string as its argument: the
# database the services use (the replica gets it by streaming).
set -e
psql -v ON_ERROR_STOP=1 "$1" -c 'CREATE DATABASE elearning'
