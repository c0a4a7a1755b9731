/**
 * `glasscast service install`: the plan (which user, which groups, which
 * command line, which files and systemctl calls) is made first and checked
 * whole; then `--dry-run` prints it, and a real install carries it out.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ServiceInstallCommand } from "../config/parse-args.ts";
import { serviceArgs } from "../config/service-args.ts";
import { isPrivatePlace, selfCommand } from "./self.ts";
import { groupExists, isRoot, run, ServiceError, systemdRunning, tryRun, userExists } from "./system.ts";
import { SERVICE_NAME, serviceUnit, UNIT_FILE } from "./unit.ts";

export interface InstallPlan {
  readonly unit: string;
  /** Where the unit goes (under --root when given). */
  readonly unitPath: string;
  readonly user: string;
  readonly groups: readonly string[];
  /** The useradd command when the user does not exist yet; null when it does. */
  readonly createUser: readonly string[] | null;
  /** The compiled binary copied out of a home or temporary folder first, or null. */
  readonly copy: { readonly from: string; readonly to: string } | null;
  /** An older unit is there: the running service is restarted to take the new options. */
  readonly replaces: boolean;
  /** What may keep the service from reaching a file it is given. */
  readonly warnings: readonly string[];
}

export function planInstall(cmd: ServiceInstallCommand): InstallPlan {
  const root = cmd.root === null ? null : resolve(cmd.root);
  const under = (path: string) => (root === null ? path : join(root, path));
  const self = selfCommand();
  const { args, paths } = serviceArgs(cmd.args);
  // SupplementaryGroups= with a group that does not exist stops the service from starting.
  const groups = ["video", ...(groupExists("render", root) ? ["render"] : [])];
  const unit = serviceUnit({
    command: [...self.command, ...args],
    user: cmd.user,
    groups,
    lowPort: cmd.options.port > 0 && cmd.options.port < 1024,
  });
  const createUser = userExists(cmd.user, root)
    ? null
    : [
        "useradd",
        "--system",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        // Its own group, or the one of that name left behind by an earlier userdel.
        ...(groupExists(cmd.user, root) ? ["--gid", cmd.user] : ["--user-group"]),
        "--groups",
        groups.join(","),
        "--comment",
        "glasscast camera streamer",
        cmd.user,
      ];
  const unitPath = under(UNIT_FILE);
  return {
    unit,
    unitPath,
    user: cmd.user,
    groups,
    createUser,
    copy: self.copyFrom === null ? null : { from: self.copyFrom, to: under(self.command[0]!) },
    replaces: existsSync(unitPath),
    warnings: placeWarnings(self.copyFrom === null ? [...self.command.filter((a) => a.startsWith("/")), ...paths] : paths, cmd.user),
  };
}

function placeWarnings(paths: readonly string[], user: string): string[] {
  return paths
    .filter(isPrivatePlace)
    .filter((p) => !p.startsWith(`/home/${user}/`))
    .map((p) =>
      /^\/(tmp|var\/tmp|dev\/shm|run\/user)\//.test(p)
        ? `${p} is in a temporary folder, which the service does not see (it has a private /tmp): move it to a folder such as /srv/glasscast first`
        : `${p} is in a home folder: the service runs as ${user}, which may not be allowed to read it (home folders are private on Raspberry Pi OS bookworm); /srv/glasscast is a better place, or give --user with the folder's owner`,
    );
}

const SYSTEMCTL = ["systemctl", "daemon-reload"] as const;

export async function install(cmd: ServiceInstallCommand): Promise<void> {
  if (!cmd.dryRun && cmd.root === null) {
    if (!isRoot()) {
      throw new ServiceError(
        "service install: needs root, to create the user and write " +
          UNIT_FILE +
          "; run the same command with sudo in front, or add --dry-run to see what it would do",
      );
    }
    if (!systemdRunning())
      throw new ServiceError(
        "service install: systemd is not running on this machine (no /run/systemd/system), so it cannot run a service; --dry-run shows the unit",
      );
  }
  const plan = planInstall(cmd);
  const steps = describe(plan, cmd.root !== null);
  if (cmd.dryRun) {
    process.stderr.write(`glasscast service install --dry-run: nothing is written; it would:\n${steps.map((s) => `  - ${s}\n`).join("")}`);
    for (const w of plan.warnings) process.stderr.write(`glasscast: warning: ${w}\n`);
    process.stdout.write(plan.unit);
    return;
  }
  for (const w of plan.warnings) process.stderr.write(`glasscast: warning: ${w}\n`);
  const say = (s: string) => process.stdout.write(`${s}\n`);
  if (plan.createUser && cmd.root === null) {
    say(`creating the system user ${plan.user}`);
    run(plan.createUser);
  }
  if (plan.copy) {
    say(`copying ${plan.copy.from} to ${plan.copy.to}`);
    mkdirSync(dirname(plan.copy.to), { recursive: true });
    copyFileSync(plan.copy.from, `${plan.copy.to}.new`);
    chmodSync(`${plan.copy.to}.new`, 0o755);
    renameSync(`${plan.copy.to}.new`, plan.copy.to); // a running copy keeps its own inode
  }
  const unchanged = plan.replaces && readFileSync(plan.unitPath, "utf8") === plan.unit;
  say(`${plan.replaces ? "replacing" : "writing"} ${plan.unitPath}${unchanged ? " (unchanged)" : ""}`);
  mkdirSync(dirname(plan.unitPath), { recursive: true });
  // Readable by root only: its command line may hold --auth passwords, a --token-secret or a camera's password.
  writeFileSync(`${plan.unitPath}.new`, plan.unit, { mode: 0o600 });
  chmodSync(`${plan.unitPath}.new`, 0o600);
  renameSync(`${plan.unitPath}.new`, plan.unitPath);
  if (cmd.root !== null) {
    say(
      `--root: the user and systemctl were left alone; on that system run: ${plan.createUser ? `${shellWords(plan.createUser)}; ` : ""}systemctl enable ${SERVICE_NAME}.service`,
    );
    return;
  }
  say("starting it");
  run(SYSTEMCTL);
  run(["systemctl", "enable", "--now", `${SERVICE_NAME}.service`]);
  // enable --now leaves an already running service as it is: restart it onto the new options.
  if (plan.replaces) run(["systemctl", "restart", `${SERVICE_NAME}.service`]);
  await Bun.sleep(2000);
  if (!tryRun(["systemctl", "is-active", "--quiet", `${SERVICE_NAME}.service`])) {
    throw new ServiceError(`service install: ${SERVICE_NAME}.service did not stay up; see why with: journalctl -u ${SERVICE_NAME} -e`);
  }
  const host = cmd.options.host === "0.0.0.0" || cmd.options.host === "::" ? "THIS-HOST" : cmd.options.host;
  say(
    [
      `glasscast runs as a service, as ${plan.user}, and starts at boot: http://${host}:${cmd.options.port}/`,
      `  status: systemctl status ${SERVICE_NAME}`,
      `  log:    journalctl -u ${SERVICE_NAME} -f`,
      `  remove: sudo glasscast service uninstall`,
    ].join("\n"),
  );
}

/** A command as one would type it, for messages. */
function shellWords(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(" ");
}

function describe(plan: InstallPlan, rooted: boolean): string[] {
  const steps: string[] = [];
  if (plan.createUser) {
    steps.push(
      rooted
        ? `leave the user alone (--root): ${plan.user} must be created on that system (${shellWords(plan.createUser)})`
        : `create the system user ${plan.user}: ${shellWords(plan.createUser)}`,
    );
  } else {
    steps.push(`run as the existing user ${plan.user}, unchanged (the unit gives it the groups ${plan.groups.join(", ")})`);
  }
  if (plan.copy) steps.push(`copy ${plan.copy.from} to ${plan.copy.to} (the service cannot use a home or temporary folder)`);
  steps.push(`${plan.replaces ? "replace" : "write"} ${plan.unitPath} (the unit is printed on stdout): user ${plan.user}, groups ${plan.groups.join(", ")}`);
  steps.push(
    rooted
      ? "leave systemctl alone (--root)"
      : `run: systemctl daemon-reload; systemctl enable --now ${SERVICE_NAME}.service${plan.replaces ? `; systemctl restart ${SERVICE_NAME}.service` : ""}`,
  );
  return steps;
}
