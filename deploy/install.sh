#!/bin/sh
# Install Peluit on a fresh Debian 12 server, from this checkout. Run as root:
#
#     sudo ./deploy/install.sh
#
# What it does (docs/deploy.md explains each step and what to do afterwards):
#  1. Debian packages: python3-venv, tor, nftables, gnupg, unattended-upgrades.
#  2. System users: "peluit" for the apps; tor runs as Debian's "debian-tor".
#  3. A virtual environment in /opt/peluit/venv: the hash-pinned runtime lock, then this checkout.
#  4. /etc/peluit/peluit.toml with fresh secrets (deployment id, argon2 salt, server signing
#     key) and the data directory /var/lib/peluit (database, envelopes, secrets).
#  5. The database migrated with `peluit db upgrade` (also the upgrade path: re-run this script).
#  6. Tor: /etc/tor/torrc with the reporter and the gateway onion services.
#  7. systemd units (hardened), journald in RAM only, nftables rules (app user: loopback only).
#  8. A summary of what the admin must do next.
#
# Re-running it is safe: existing secrets, database and onion keys are kept, never regenerated
# (the salt is what every reporter's codename hangs on).
#
# For tests, PELUIT_SYSTEM=0 skips everything that changes the machine itself (packages, users,
# ownership, systemd, nftables, tor restart) and PELUIT_ROOT puts every path under a prefix.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${PELUIT_ROOT:-}
SYSTEM=${PELUIT_SYSTEM:-1}
VENV=${PELUIT_VENV:-$ROOT/opt/peluit/venv}
ETC=$ROOT/etc/peluit
CONFIG=$ETC/peluit.toml
DATA=$ROOT/var/lib/peluit
TOR_DIR=$ROOT/var/lib/tor
TORRC=$ROOT/etc/tor/torrc
REPORTER_LISTEN=${PELUIT_REPORTER_LISTEN:-127.0.0.1:8080}
GATEWAY_LISTEN=${PELUIT_GATEWAY_LISTEN:-127.0.0.1:8081}
APP_USER=peluit
TOR_USER=debian-tor

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
system() { [ "$SYSTEM" = 1 ]; }

# -- 0. preconditions -------------------------------------------------------------------------
if system; then
    [ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
    . /etc/os-release
    [ "${ID:-}" = debian ] && [ "${VERSION_ID:-}" = 12 ] \
        || die "this script is for Debian 12; found ${PRETTY_NAME:-unknown}"
fi

# -- 1. packages ------------------------------------------------------------------------------
if system; then
    step "Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    # Only what is missing, so that a re-run (the update path) needs no mirror when nothing is;
    # installed packages are kept current by unattended-upgrades below.
    missing=""
    for pkg in python3 python3-venv tor nftables gnupg unattended-upgrades; do
        dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' \
            || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
    # Security updates install themselves (Debian's default origins: bookworm-security).
    printf 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n' \
        > /etc/apt/apt.conf.d/20auto-upgrades
fi

# -- 2. users ---------------------------------------------------------------------------------
if system; then
    step "system users"
    if ! getent passwd "$APP_USER" >/dev/null; then
        adduser --system --group --home /var/lib/peluit --no-create-home \
            --shell /usr/sbin/nologin --disabled-login "$APP_USER" >/dev/null
    fi
    getent passwd "$TOR_USER" >/dev/null || die "user $TOR_USER missing: is tor installed?"
fi

# -- 3. virtual environment -------------------------------------------------------------------
if [ "${PELUIT_SKIP_PIP:-0}" != 1 ]; then
    step "virtual environment in $VENV"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    # Every package from the hash-pinned lock (docs/supply-chain.md): a file whose hash is not
    # in the lock is refused, whatever the index serves that day. Then Peluit itself, without
    # dependencies, built with the locked setuptools (no build backend fetched).
    "$VENV/bin/pip" install --quiet --require-hashes -r "$SRC/requirements/runtime.lock"
    # Not editable: the server runs a copy, so a checkout being edited cannot change it.
    "$VENV/bin/pip" install --quiet --no-deps --no-build-isolation "$SRC"
fi
PELUIT=$VENV/bin/peluit
[ -x "$PELUIT" ] || die "$PELUIT missing"

# -- 4. configuration and secrets -------------------------------------------------------------
step "configuration"
mkdir -p "$ETC" "$DATA"
chmod 0750 "$ETC"
chmod 0700 "$DATA"
if [ -e "$CONFIG" ]; then
    echo "keeping $CONFIG and its secrets"
else
    # `peluit init` makes the secrets (32-byte salt, Ed25519 server key, deployment id) from
    # os.urandom, writes each to a temporary name, fsyncs and renames; the configuration then
    # moves to /etc with absolute paths into the data directory.
    [ -e "$DATA/peluit.toml" ] && die "$DATA/peluit.toml exists from an interrupted run; remove it"
    "$PELUIT" init --data-dir "$DATA" --reporter-listen "$REPORTER_LISTEN" \
        --gateway-listen "$GATEWAY_LISTEN" --database-url "sqlite:///peluit.sqlite" >/dev/null
    tmp=$ETC/.peluit.toml.tmp
    sed -e "s|^database_url = \"sqlite:///peluit.sqlite\"|database_url = \"sqlite:///$DATA/peluit.sqlite\"|" \
        -e "s|^store_dir = \"store\"|store_dir = \"$DATA/store\"|" \
        -e "s|^salt_file = \"secrets/|salt_file = \"$DATA/secrets/|" \
        -e "s|^server_key_file = \"secrets/|server_key_file = \"$DATA/secrets/|" \
        "$DATA/peluit.toml" > "$tmp"
    printf '\n[tor]\ndata_dir = "%s"\n' "$TOR_DIR" >> "$tmp"
    chmod 0640 "$tmp"
    sync "$tmp" 2>/dev/null || sync
    mv "$tmp" "$CONFIG"
    rm -f "$DATA/peluit.toml"
    echo "created $CONFIG with fresh secrets in $DATA/secrets"
fi

# -- 5. database ------------------------------------------------------------------------------
step "database migrations"
"$PELUIT" db upgrade --config "$CONFIG"

# The protection policy, unsigned until the compliance officer signs it (never overwritten).
"$PELUIT" policy install "$ETC/policy" >/dev/null

if system; then
    chown -R "$APP_USER:$APP_USER" "$DATA"
    chown "root:$APP_USER" "$ETC" "$CONFIG"
    chown -R "root:$APP_USER" "$ETC/policy"
fi

# -- 6. tor -----------------------------------------------------------------------------------
step "onion services"
mkdir -p "$(dirname "$TORRC")" "$TOR_DIR"
if [ -e "$TORRC" ] && ! grep -q '^## Peluit onion services' "$TORRC"; then
    cp -p "$TORRC" "$TORRC.before-peluit"
    echo "saved the previous torrc as $TORRC.before-peluit"
fi
"$PELUIT" tor torrc --config "$CONFIG" > "$TORRC.tmp"
mv "$TORRC.tmp" "$TORRC"
if system; then
    "$PELUIT" tor setup --config "$CONFIG" --owner "$TOR_USER"
    tor --defaults-torrc /usr/share/tor/tor-service-defaults-torrc -f "$TORRC" \
        --verify-config >/dev/null || die "tor refuses $TORRC"
else
    "$PELUIT" tor setup --config "$CONFIG"
fi

# -- 7. services, logs, firewall --------------------------------------------------------------
step "systemd units, journald, nftables"
UNIT_DIR=$ROOT/etc/systemd/system
install -d -m 0755 "$UNIT_DIR" "$ROOT/etc/systemd/journald.conf.d" "$ROOT/etc/nftables.d"
install -m 0644 "$SRC/deploy/systemd/peluit-reporter.service" \
    "$SRC/deploy/systemd/peluit-gateway.service" \
    "$SRC/deploy/systemd/peluit-retention.service" \
    "$SRC/deploy/systemd/peluit-retention.timer" "$UNIT_DIR/"
install -m 0644 "$SRC/deploy/journald/peluit.conf" "$ROOT/etc/systemd/journald.conf.d/peluit.conf"
# The firewall's app ports follow the configured listen addresses.
reporter_port=${REPORTER_LISTEN##*:}
gateway_port=${GATEWAY_LISTEN##*:}
sed "s|^define app_ports = .*|define app_ports = { $reporter_port, $gateway_port }|" \
    "$SRC/deploy/nftables/peluit.nft" > "$ROOT/etc/nftables.d/peluit.nft"
chmod 0644 "$ROOT/etc/nftables.d/peluit.nft"

if system; then
    systemctl restart systemd-journald
    # Storage=volatile stops journald writing to disk but leaves what it wrote there before
    # (Debian keeps a persistent journal in /var/log/journal: this boot's log up to now, the
    # package installs, tor's start). Without the directory, journald never writes there again.
    rm -rf /var/log/journal
    grep -q '^include "/etc/nftables.d/\*.nft"' /etc/nftables.conf \
        || printf '\ninclude "/etc/nftables.d/*.nft"\n' >> /etc/nftables.conf
    nft -c -f /etc/nftables.conf || die "nftables rejects the ruleset"
    systemctl enable nftables >/dev/null 2>&1
    nft -f /etc/nftables.conf

    systemctl daemon-reload
    systemctl enable tor@default >/dev/null 2>&1 || true
    systemctl restart tor@default
    systemctl enable --now peluit-reporter.service peluit-gateway.service \
        peluit-retention.timer >/dev/null 2>&1
    systemctl restart peluit-reporter.service peluit-gateway.service
    # Tor writes the hostname files once it has created the services' keys.
    i=0
    while [ ! -s "$TOR_DIR/peluit-gateway/hostname" ] && [ $i -lt 60 ]; do
        sleep 1; i=$((i + 1))
    done
fi

# -- 8. summary -------------------------------------------------------------------------------
step "done"
"$PELUIT" tor status --config "$CONFIG"
cat <<EOF

Peluit is installed. What the admin must do next:

  1. Enroll each auditor's card (made on their workbench), then compare the printed
     fingerprint with the auditor by voice:
         $PELUIT auditor enroll CARD --config $CONFIG
     The reporter app refuses submissions until at least one card is enrolled.
  2. For each auditor, a gateway account and a Tor client key of their own:
         $PELUIT gateway-user add NAME --config $CONFIG
         $PELUIT tor add-client NAME --config $CONFIG
         systemctl reload tor@default
     Hand over the passphrase, TOTP secret and Tor key in person; the server keeps none.
  3. Give the workbenches the server card to pin:
         $PELUIT server-key show --config $CONFIG
  4. Publish the reporter onion address (above) through the channels reporters trust.
  5. Back up regularly, off the server, and test a restore:
         $PELUIT backup /root/peluit-\$(date +%F).backup --config $CONFIG
  6. Updates: pull the new release and run this script again; it runs the migrations
     (\`peluit db upgrade\`) and restarts the services. docs/deploy.md has the details.
  7. The compliance officer reviews and signs the protection policy (the reporter page shows
     only a signed version), then checks the deployment against its controls:
         $PELUIT policy sign $ETC/policy/1.0 --identity OFFICER-IDENTITY
         $PELUIT policy check --config $CONFIG --out /root/peluit-check
EOF
