# Sourced by docker/backup.sh and docker/restore.sh: `compose ...` runs docker-compose (or
# `docker compose`) on docker/compose.yaml with the deployment's env file.
compose_file="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/compose.yaml"
env_file=${FOOTPRINT_ENV_FILE:-$(dirname "$compose_file")/.env}
compose() {
  if command -v docker-compose >/dev/null; then
    docker-compose -f "$compose_file" --env-file "$env_file" "$@"
  else
    docker compose -f "$compose_file" --env-file "$env_file" "$@"
  fi
}
