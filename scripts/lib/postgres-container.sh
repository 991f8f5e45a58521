# The running PostgreSQL container of a compose project or swarm stack (scripts/backup, restore).
postgres_container() {  # --compose|--swarm name
  local filter
  case "$1" in
    --compose) filter="label=com.docker.compose.project=$2 --filter label=com.docker.compose.service=postgres" ;;
    --swarm) filter="label=com.docker.swarm.service.name=$2_postgres" ;;
    *) echo "usage: $(basename "$0") --compose <project> | --swarm <stack> ..." >&2; return 1 ;;
  esac
  local id
  # shellcheck disable=SC2086 - the filter is two words for compose
  id=$(docker ps -q --filter $filter | head -n1)
  [ -n "$id" ] || { echo "$(basename "$0"): no running postgres for $1 $2" >&2; return 1; }
  echo "$id"
}
