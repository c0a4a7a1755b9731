/**
 * `glasscast service uninstall`: stop and disable the service, remove its
 * unit, reload systemd. The user is kept (files it owns may remain), and so
 * is a binary that install copied to /usr/local/bin.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { INSTALLED_BINARY } from "./self.ts";
import { isRoot, ServiceError, tryRun } from "./system.ts";
import { SERVICE_NAME, UNIT_FILE } from "./unit.ts";

export interface UninstallCommand {
  readonly dryRun: boolean;
  readonly root: string | null;
}

export function uninstall(cmd: UninstallCommand): void {
  if (!cmd.dryRun && cmd.root === null && !isRoot()) {
    throw new ServiceError(
      `service uninstall: needs root, to stop the service and remove ${UNIT_FILE}; run the same command with sudo in front, or add --dry-run to see what it would do`,
    );
  }
  const unitPath = cmd.root === null ? UNIT_FILE : join(resolve(cmd.root), UNIT_FILE);
  if (!existsSync(unitPath)) {
    const message = `glasscast is not installed as a service (there is no ${unitPath})`;
    if (cmd.dryRun) process.stderr.write(`glasscast service uninstall --dry-run: ${message}: it would do nothing\n`);
    else process.stdout.write(`${message}: nothing to do\n`);
    return;
  }
  const unit = readFileSync(unitPath, "utf8");
  const user = /^User=(.+)$/m.exec(unit)?.[1]?.trim() ?? "glasscast";
  const kept = [`the user ${user} is kept (remove it with: sudo userdel ${user})`];
  if (/^ExecStart=\/usr\/local\/bin\/glasscast(\s|$)/m.test(unit)) kept.push(`${INSTALLED_BINARY} is kept (sudo rm ${INSTALLED_BINARY})`);
  const steps = [
    ...(cmd.root === null ? [`run: systemctl disable --now ${SERVICE_NAME}.service`] : []),
    `remove ${unitPath}`,
    ...(cmd.root === null ? ["run: systemctl daemon-reload"] : []),
  ];
  if (cmd.dryRun) {
    process.stderr.write(
      `glasscast service uninstall --dry-run: nothing is changed; it would:\n${steps.map((s) => `  - ${s}\n`).join("")}${kept.map((k) => `  - leave alone: ${k}\n`).join("")}`,
    );
    return;
  }
  const say = (s: string) => process.stdout.write(`${s}\n`);
  if (cmd.root === null) {
    say(`stopping and disabling ${SERVICE_NAME}.service`);
    // A unit systemd never loaded cannot be disabled; removing its file is still right.
    if (!tryRun(["systemctl", "disable", "--now", `${SERVICE_NAME}.service`])) say("(systemctl could not disable it; removing the unit anyway)");
  }
  say(`removing ${unitPath}`);
  rmSync(unitPath, { force: true });
  if (cmd.root === null && !tryRun(["systemctl", "daemon-reload"])) say("(systemctl daemon-reload failed: systemd will drop the unit at its next reload)");
  say(`glasscast is no longer a service; ${kept.join("; ")}`);
}
