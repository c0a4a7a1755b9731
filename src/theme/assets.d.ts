// Theme files imported `with { type: "file" }`: each import is the file's path.
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.svg" {
  const path: string;
  export default path;
}
