//! Template checks: cfn-lint clean (pinned), and the SAM transform succeeds offline.

use std::path::Path;

use anyhow::Context as _;
use xshell::{Shell, cmd};

/// Pinned: cfn-lint versions disagree on what they flag.
const CFN_LINT: &str = "1.51.0";
const SAM_TRANSLATOR: &str = "1.110.0";

pub fn check(sh: &Shell, tools_dir: &Path) -> anyhow::Result<()> {
    let probe = format!(
        "import cfnlint.version, samtranslator; assert cfnlint.version.__version__ == '{CFN_LINT}' and samtranslator.__version__ == '{SAM_TRANSLATOR}'"
    );
    let packages = [format!("cfn-lint=={CFN_LINT}"), format!("aws-sam-translator=={SAM_TRANSLATOR}")];
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    let python = crate::python::environment(sh, tools_dir, "cfn-lint", &probe, &packages)?;
    let _region = sh.push_env("AWS_DEFAULT_REGION", "us-east-1");
    let cfn_lint = "import sys; from cfnlint.runner import main; sys.argv = ['cfn-lint', 'template.yaml']; sys.exit(main())";
    cmd!(sh, "{python} -c {cfn_lint}").run().context("cfn-lint found problems in template.yaml")?;
    cmd!(sh, "{python} infra/scripts/sam_transform.py template.yaml").run().context("the SAM transform of template.yaml failed")?;
    Ok(())
}
