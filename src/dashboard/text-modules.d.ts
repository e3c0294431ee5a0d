// Text modules (wrangler.toml [[rules]] type = "Text"): the import's default export is the file's
// text. The names differ from the patterns `wrangler types` would generate for those rules
// ("*/uPlot.iife.min.js", ...), so regenerating worker-configuration.d.ts cannot declare them twice.
declare module "uplot/dist/uPlot.iife.min.js" {
  const text: string;
  export default text;
}
declare module "uplot/dist/uPlot.min.css" {
  const text: string;
  export default text;
}
// The dashboard's bundle (scripts/build-dashboard.mjs): declared here, so that type-checking does
// not need it built.
declare module "*dashboard.browser.js" {
  const text: string;
  export default text;
}
