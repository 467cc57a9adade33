/** Whether this machine runs a stock kernel (no /proc/mitosis): the "real:" tests expect one. */
export const STOCK_KERNEL = (() => {
  try {
    Deno.statSync("/proc/mitosis");
    return false;
  } catch {
    return true;
  }
})();
