// The Events API's HTTP Basic credentials, as every client sends them: base64 of "key:secret".
export function basicAuth(apiKey: string, apiSecret: string): string {
  return `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;
}
