export async function printLatencyTable(): Promise<void> {}
