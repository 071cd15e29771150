// Each package's `bench` script runs its benchmark inside this repository
// (`npx -y pnpm@12 --filter @bzzz/github bench`); the benchmark files are not published, so
// the script is dropped from the manifest that goes into the tarball.
module.exports = {
  hooks: {
    beforePacking (pkg) {
      if (pkg.scripts !== undefined) {
        delete pkg.scripts.bench
        if (Object.keys(pkg.scripts).length === 0) delete pkg.scripts
      }
      return pkg
    }
  }
}
