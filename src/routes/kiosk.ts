/** `?kiosk=1` turns kiosk mode on, `?kiosk=0` off; without it, --kiosk decides. */
export function kioskMode(asked: string | null | undefined, byDefault: boolean): boolean {
  return asked === null || asked === undefined ? byDefault : asked !== "0" && asked !== "false";
}
