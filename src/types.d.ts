// The ajv standalone validators are generated JavaScript (see scripts/generate-settings.ts).
declare module "*.validate.generated.js" {
  const validate: (data: unknown) => boolean;
  export default validate;
}
