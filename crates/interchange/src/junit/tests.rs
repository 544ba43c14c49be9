//! Samples of the four formats, written after what the tools really write: pytest 9.2 and
//! cargo-nextest 0.9.143 output captured on this machine (timestamps shortened), googletest's
//! own expected output (`googletest/test/gtest_xml_output_unittest.py`, with the `*`
//! placeholders filled in) and what ctest's `cmCTestTestHandler::WriteJUnitXML` emits.

use super::*;

fn case<'r>(report: &'r TestReport, full_name: &str) -> &'r TestCase {
    report
        .cases
        .iter()
        .find(|c| c.full_name() == full_name)
        .unwrap_or_else(|| panic!("no case {full_name} in {report:#?}"))
}

fn outcomes(report: &TestReport) -> Vec<(String, Outcome)> {
    report
        .cases
        .iter()
        .map(|c| (c.full_name(), c.outcome))
        .collect()
}

fn refused(xml: &[u8]) -> String {
    match read(xml) {
        Ok(report) => panic!("accepted: {report:#?}"),
        Err(e) => e.to_string(),
    }
}

const PYTEST: &str = r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="5" time="0.120" timestamp="2026-11-26T22:19:23.627034+00:00" hostname="vm"><testcase classname="tests.test_sample" name="test_vc_001_ok" time="0.001"><system-out>--------------------------------- Captured Log ---------------------------------

--------------------------------- Captured Out ---------------------------------
hello out

</system-out><system-err>--------------------------------- Captured Err ---------------------------------

</system-err></testcase><testcase classname="tests.test_sample" name="test_vc_002_fail" time="0.007"><failure message="AssertionError: math &lt;is&gt; &amp; broken&#10;assert (1 + 1) == 3">def test_vc_002_fail():
&gt;       assert 1 + 1 == 3, "math &lt;is&gt; &amp; broken"
E       AssertionError: math &lt;is&gt; &amp; broken
E       assert (1 + 1) == 3

tests/test_sample.py:11: AssertionError</failure></testcase><testcase classname="tests.test_sample" name="test_vc_003_skip" time="0.000"><skipped type="pytest.skip" message="not on this rig">/src/tests/test_sample.py:13: not on this rig</skipped></testcase><testcase classname="tests.test_sample" name="test_vc_004_err" time="0.000"><error message="failed on setup with &quot;RuntimeError: fixture exploded&quot;">@pytest.fixture
    def broken():
&gt;       raise RuntimeError("fixture exploded")
E       RuntimeError: fixture exploded

tests/test_sample.py:5: RuntimeError</error></testcase><testcase classname="tests.test_sample" name="test_xfail" time="0.000"><skipped type="pytest.xfail" message="known bug" /></testcase><testcase classname="" name="tests.test_broken" time="0.000"><error message="collection failure">ImportError while importing test module</error></testcase></testsuite></testsuites>"#;

#[test]
fn reads_pytest() {
    let report = read(PYTEST.as_bytes()).unwrap();
    assert_eq!(report.suites, 1);
    assert_eq!(
        outcomes(&report),
        [
            (
                "tests.test_sample::test_vc_001_ok".to_owned(),
                Outcome::Passed
            ),
            (
                "tests.test_sample::test_vc_002_fail".to_owned(),
                Outcome::Failed
            ),
            (
                "tests.test_sample::test_vc_003_skip".to_owned(),
                Outcome::Skipped
            ),
            (
                "tests.test_sample::test_vc_004_err".to_owned(),
                Outcome::Error
            ),
            ("tests.test_sample::test_xfail".to_owned(), Outcome::Skipped),
            ("tests.test_broken".to_owned(), Outcome::Error),
        ]
    );
    let ok = case(&report, "tests.test_sample::test_vc_001_ok");
    assert_eq!(ok.suite, "pytest");
    assert_eq!(ok.time_secs, Some(0.001));
    assert_eq!(ok.message, "");
    assert!(
        ok.detail.starts_with("[system-out]\n-----"),
        "{}",
        ok.detail
    );
    assert!(
        ok.detail.contains("hello out\n\n[system-err]\n"),
        "{}",
        ok.detail
    );

    let fail = case(&report, "tests.test_sample::test_vc_002_fail");
    assert_eq!(
        fail.message,
        "AssertionError: math <is> & broken\nassert (1 + 1) == 3"
    );
    assert!(fail
        .detail
        .starts_with("def test_vc_002_fail():\n>       assert 1 + 1 == 3, \"math <is> & broken\""));
    assert!(fail
        .detail
        .ends_with("tests/test_sample.py:11: AssertionError"));
    assert_eq!(fail.time_secs, Some(0.007));

    let skip = case(&report, "tests.test_sample::test_vc_003_skip");
    assert_eq!(skip.message, "not on this rig");
    assert_eq!(skip.detail, "/src/tests/test_sample.py:13: not on this rig");
    let err = case(&report, "tests.test_sample::test_vc_004_err");
    assert_eq!(
        err.message,
        "failed on setup with \"RuntimeError: fixture exploded\""
    );
    assert!(err.detail.starts_with("@pytest.fixture\n    def broken():"));
    assert_eq!(
        case(&report, "tests.test_sample::test_xfail").message,
        "known bug"
    );
    let broken = case(&report, "tests.test_broken");
    assert_eq!(
        (broken.classname.as_str(), broken.name.as_str()),
        ("", "tests.test_broken")
    );
}

/// With `retries = 1`: `vc_011_fails` failed both attempts, `vc_013_flaky` passed on the
/// retry. The ignored `vc_012_ignored` is not in the file, as nextest leaves skipped tests out.
const NEXTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" skipped="0" failures="1" errors="0" uuid="e566f110-afee-435a-bd01-d2d25fe3ea11" timestamp="2026-11-26T22:19:36.468+00:00" time="0.050">
    <testsuite name="vc_demo" tests="3" skipped="0" errors="0" failures="1">
        <testcase name="tests::vc_011_fails" classname="vc_demo" timestamp="2026-11-26T22:19:36.468+00:00" time="0.014">
            <failure message="thread &apos;tests::vc_011_fails&apos; (11160) panicked at src/lib.rs:6:25" type="test failure with exit code 101">thread &apos;tests::vc_011_fails&apos; (11160) panicked at src/lib.rs:6:25:
assertion `left == right` failed: arithmetic &lt;broke&gt; &amp; stayed
  left: 2
 right: 3
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace</failure>
            <rerunFailure timestamp="2026-11-26T22:19:36.484+00:00" time="0.009" message="thread &apos;tests::vc_011_fails&apos; (11163) panicked at src/lib.rs:6:25" type="test failure with exit code 101">thread &apos;tests::vc_011_fails&apos; (11163) panicked at src/lib.rs:6:25:
assertion `left == right` failed: arithmetic &lt;broke&gt; &amp; stayed
  left: 2
 right: 3
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
                <system-out>
running 1 test
test tests::vc_011_fails ... FAILED

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.00s

</system-out>
                <system-err>
thread &apos;tests::vc_011_fails&apos; (11163) panicked at src/lib.rs:6:25:
assertion `left == right` failed: arithmetic &lt;broke&gt; &amp; stayed
</system-err>
            </rerunFailure>
            <system-out>
running 1 test
test tests::vc_011_fails ... FAILED
</system-out>
            <system-err>
thread &apos;tests::vc_011_fails&apos; (11160) panicked at src/lib.rs:6:25:
</system-err>
        </testcase>
        <testcase name="tests::vc_010_passes" classname="vc_demo" timestamp="2026-11-26T22:19:36.468+00:00" time="0.028"/>
        <testcase name="tests::vc_013_flaky" classname="vc_demo" timestamp="2026-11-26T22:19:36.503+00:00" time="0.014">
            <flakyFailure timestamp="2026-11-26T22:19:36.493+00:00" time="0.009" message="thread &apos;tests::vc_013_flaky&apos; (11165) panicked at src/lib.rs:15:13" type="test failure with exit code 101">thread &apos;tests::vc_013_flaky&apos; (11165) panicked at src/lib.rs:15:13:
first attempt fails
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
                <system-out>
running 1 test
test tests::vc_013_flaky ... FAILED
</system-out>
                <system-err>
thread &apos;tests::vc_013_flaky&apos; (11165) panicked at src/lib.rs:15:13:
first attempt fails
</system-err>
            </flakyFailure>
        </testcase>
    </testsuite>
    <testsuite name="vc_demo::integration" tests="1" skipped="0" errors="0" failures="1">
        <testcase name="vc_014_timeout" classname="vc_demo::integration" time="60.002">
            <failure type="test timeout"/>
        </testcase>
    </testsuite>
</testsuites>
"#;

#[test]
fn reads_nextest_with_retries() {
    let report = read(NEXTEST.as_bytes()).unwrap();
    assert_eq!(report.suites, 2);
    assert_eq!(
        outcomes(&report),
        [
            ("vc_demo::tests::vc_011_fails".to_owned(), Outcome::Failed),
            ("vc_demo::tests::vc_010_passes".to_owned(), Outcome::Passed),
            ("vc_demo::tests::vc_013_flaky".to_owned(), Outcome::Passed),
            (
                "vc_demo::integration::vc_014_timeout".to_owned(),
                Outcome::Failed
            ),
        ]
    );
    let fails = case(&report, "vc_demo::tests::vc_011_fails");
    assert_eq!(fails.suite, "vc_demo");
    assert_eq!(fails.name, "tests::vc_011_fails");
    assert_eq!(
        fails.message,
        "thread 'tests::vc_011_fails' (11160) panicked at src/lib.rs:6:25"
    );
    // The first attempt, then each retry with its output, then the final output.
    let detail = &fails.detail;
    let first = detail.find("arithmetic <broke> & stayed").unwrap();
    let rerun = detail
        .find("[rerunFailure]\nthread 'tests::vc_011_fails' (11163)")
        .unwrap();
    let rerun_out = detail.find("[system-out]\nrunning 1 test").unwrap();
    let last_err = detail
        .rfind("[system-err]\nthread 'tests::vc_011_fails' (11160)")
        .unwrap();
    assert!(
        first < rerun && rerun < rerun_out && rerun_out < last_err,
        "{detail}"
    );
    assert!(detail.starts_with("thread 'tests::vc_011_fails' (11160) panicked"));

    let passes = case(&report, "vc_demo::tests::vc_010_passes");
    assert_eq!((passes.message.as_str(), passes.detail.as_str()), ("", ""));
    assert_eq!(passes.time_secs, Some(0.028));

    let flaky = case(&report, "vc_demo::tests::vc_013_flaky");
    assert_eq!(
        flaky.message,
        "passed on a retry after 1 failed attempt: thread 'tests::vc_013_flaky' (11165) \
         panicked at src/lib.rs:15:13"
    );
    assert!(flaky
        .detail
        .starts_with("[flakyFailure]\nthread 'tests::vc_013_flaky'"));

    // No message, no body: the type says what happened.
    let timeout = case(&report, "vc_demo::integration::vc_014_timeout");
    assert_eq!(timeout.message, "test timeout");
    assert_eq!(timeout.suite, "vc_demo::integration");
}

#[test]
fn nextest_flaky_result_fail_and_rerun_errors_are_not_passes() {
    // `flaky-result = "fail"` (nextest 0.9.1xx): the flaky test carries a <failure> too.
    let xml = r#"<testsuites name="nextest-run"><testsuite name="b">
        <testcase name="flaky_but_strict" classname="b">
            <failure message="test passed on attempt 2/2 but is configured to fail when flaky" type="flaky failure"/>
            <flakyFailure type="test failure with exit code 101">first attempt</flakyFailure>
        </testcase>
        <testcase name="error_then_rerun" classname="b">
            <rerunError type="execution failure">error spawning child process</rerunError>
        </testcase>
        <testcase name="flaky_error" classname="b">
            <flakyError type="execution failure">error spawning child process</flakyError>
            <flakyFailure>second attempt failed</flakyFailure>
        </testcase>
    </testsuite></testsuites>"#;
    let report = read(xml.as_bytes()).unwrap();
    assert_eq!(
        outcomes(&report),
        [
            ("b::flaky_but_strict".to_owned(), Outcome::Failed),
            ("b::error_then_rerun".to_owned(), Outcome::Error),
            ("b::flaky_error".to_owned(), Outcome::Passed),
        ]
    );
    assert_eq!(
        report.cases[0].message,
        "test passed on attempt 2/2 but is configured to fail when flaky"
    );
    assert_eq!(report.cases[1].message, "error spawning child process");
    assert_eq!(
        report.cases[2].message,
        "passed on a retry after 2 failed attempts: error spawning child process"
    );
}

const GTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="12" failures="5" disabled="1" errors="0" time="0.035" timestamp="2026-11-26T22:20:01.123" name="AllTests" ad_hoc_property="42">
  <testsuite name="SuccessfulTest" tests="1" failures="0" disabled="0" skipped="0" errors="0" time="0" timestamp="2026-11-26T22:20:01.123">
    <testcase name="Succeeds" file="gtest_xml_output_unittest_.cc" line="53" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.123" classname="SuccessfulTest"/>
  </testsuite>
  <testsuite name="FailedTest" tests="1" failures="1" disabled="0" skipped="0" errors="0" time="0.001" timestamp="2026-11-26T22:20:01.123">
    <testcase name="Fails" file="gtest_xml_output_unittest_.cc" line="61" status="run" result="completed" time="0.001" timestamp="2026-11-26T22:20:01.123" classname="FailedTest">
      <failure message="gtest_xml_output_unittest_.cc:63&#x0A;Expected equality of these values:&#x0A;  1&#x0A;  2" type=""><![CDATA[gtest_xml_output_unittest_.cc:63
Expected equality of these values:
  1
  2
Stack trace:
  0x4c1b2a: FailedTest_Fails_Test::TestBody()]]></failure>
    </testcase>
  </testsuite>
  <testsuite name="MixedResultTest" tests="3" failures="1" disabled="1" skipped="0" errors="0" time="0.002" timestamp="2026-11-26T22:20:01.124">
    <testcase name="Succeeds" file="gtest_xml_output_unittest_.cc" line="88" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.124" classname="MixedResultTest"/>
    <testcase name="Fails" file="gtest_xml_output_unittest_.cc" line="93" status="run" result="completed" time="0.002" timestamp="2026-11-26T22:20:01.124" classname="MixedResultTest">
      <failure message="gtest_xml_output_unittest_.cc:94&#x0A;Expected equality of these values:&#x0A;  1&#x0A;  2" type=""><![CDATA[gtest_xml_output_unittest_.cc:94
Expected equality of these values:
  1
  2]]></failure>
      <failure message="gtest_xml_output_unittest_.cc:95&#x0A;Expected equality of these values:&#x0A;  2&#x0A;  3" type=""><![CDATA[gtest_xml_output_unittest_.cc:95
Expected equality of these values:
  2
  3]]></failure>
    </testcase>
    <testcase name="DISABLED_test" file="gtest_xml_output_unittest_.cc" line="98" status="notrun" result="suppressed" time="0" timestamp="1970-01-01T00:00:00.000" classname="MixedResultTest"/>
  </testsuite>
  <testsuite name="XmlQuotingTest" tests="1" failures="1" disabled="0" skipped="0" errors="0" time="0" timestamp="2026-11-26T22:20:01.126">
    <testcase name="OutputsCData" file="gtest_xml_output_unittest_.cc" line="102" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.126" classname="XmlQuotingTest">
      <failure message="gtest_xml_output_unittest_.cc:103&#x0A;Failed&#x0A;XML output: &lt;?xml encoding=&quot;utf-8&quot;&gt;&lt;top&gt;&lt;![CDATA[cdata text]]&gt;&lt;/top&gt;" type=""><![CDATA[gtest_xml_output_unittest_.cc:103
Failed
XML output: <?xml encoding="utf-8"><top><![CDATA[cdata text]]>]]&gt;<![CDATA[</top>]]></failure>
    </testcase>
  </testsuite>
  <testsuite name="SkippedTest" tests="3" failures="1" disabled="0" skipped="2" errors="0" time="0" timestamp="2026-11-26T22:20:01.127">
    <testcase name="Skipped" status="run" file="gtest_xml_output_unittest_.cc" line="75" result="skipped" time="0" timestamp="2026-11-26T22:20:01.127" classname="SkippedTest">
      <skipped message="gtest_xml_output_unittest_.cc:76&#x0A;&#x0A;"><![CDATA[gtest_xml_output_unittest_.cc:76

]]></skipped>
    </testcase>
    <testcase name="SkippedWithMessage" file="gtest_xml_output_unittest_.cc" line="79" status="run" result="skipped" time="0" timestamp="2026-11-26T22:20:01.127" classname="SkippedTest">
      <skipped message="gtest_xml_output_unittest_.cc:80&#x0A;It is good practice to tell why you skip a test.&#x0A;"><![CDATA[gtest_xml_output_unittest_.cc:80
It is good practice to tell why you skip a test.
]]></skipped>
    </testcase>
    <testcase name="SkippedAfterFailure" file="gtest_xml_output_unittest_.cc" line="83" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.127" classname="SkippedTest">
      <failure message="gtest_xml_output_unittest_.cc:84&#x0A;Expected equality of these values:&#x0A;  1&#x0A;  2" type=""><![CDATA[gtest_xml_output_unittest_.cc:84
Expected equality of these values:
  1
  2]]></failure>
      <skipped message="gtest_xml_output_unittest_.cc:85&#x0A;It is good practice to tell why you skip a test.&#x0A;"><![CDATA[gtest_xml_output_unittest_.cc:85
It is good practice to tell why you skip a test.
]]></skipped>
    </testcase>

  </testsuite>
  <testsuite name="PropertyRecordingTest" tests="1" failures="0" disabled="0" skipped="0" errors="0" time="0" timestamp="2026-11-26T22:20:01.128" SetUpTestSuite="yes" TearDownTestSuite="aye">
    <testcase name="OneProperty" file="gtest_xml_output_unittest_.cc" line="121" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.128" classname="PropertyRecordingTest">
      <properties>
        <property name="key_1" value="1"/>
      </properties>
    </testcase>
  </testsuite>
  <testsuite name="Single/ValueParamTest" tests="1" failures="0" disabled="0" skipped="0" errors="0" time="0" timestamp="2026-11-26T22:20:01.128">
    <testcase name="HasValueParamAttribute/0" file="gtest_xml_output_unittest_.cc" line="164" value_param="33" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.128" classname="Single/ValueParamTest" />
  </testsuite>
  <testsuite name="NonTestSuiteFailure" tests="1" failures="1" disabled="0" skipped="0" errors="0" time="0" timestamp="2026-11-26T22:20:01.129">
    <testcase name="" status="run" result="completed" time="0" timestamp="2026-11-26T22:20:01.129" classname="">
      <failure message="gtest_no_test_unittest.cc:54&#x0A;Expected equality of these values:&#x0A;  1&#x0A;  2" type=""><![CDATA[gtest_no_test_unittest.cc:54
Expected equality of these values:
  1
  2]]></failure>
    </testcase>
  </testsuite>
</testsuites>
"#;

#[test]
fn reads_googletest() {
    let report = read(GTEST.as_bytes()).unwrap();
    assert_eq!(report.suites, 8);
    assert_eq!(
        outcomes(&report),
        [
            ("SuccessfulTest::Succeeds".to_owned(), Outcome::Passed),
            ("FailedTest::Fails".to_owned(), Outcome::Failed),
            ("MixedResultTest::Succeeds".to_owned(), Outcome::Passed),
            ("MixedResultTest::Fails".to_owned(), Outcome::Failed),
            (
                "MixedResultTest::DISABLED_test".to_owned(),
                Outcome::Skipped
            ),
            ("XmlQuotingTest::OutputsCData".to_owned(), Outcome::Failed),
            ("SkippedTest::Skipped".to_owned(), Outcome::Skipped),
            (
                "SkippedTest::SkippedWithMessage".to_owned(),
                Outcome::Skipped
            ),
            (
                "SkippedTest::SkippedAfterFailure".to_owned(),
                Outcome::Failed
            ),
            (
                "PropertyRecordingTest::OneProperty".to_owned(),
                Outcome::Passed
            ),
            (
                "Single/ValueParamTest::HasValueParamAttribute/0".to_owned(),
                Outcome::Passed
            ),
            (String::new(), Outcome::Failed),
        ]
    );
    let fails = case(&report, "FailedTest::Fails");
    assert_eq!(
        fails.message,
        "gtest_xml_output_unittest_.cc:63\nExpected equality of these values:\n  1\n  2"
    );
    assert!(fails
        .detail
        .ends_with("  2\nStack trace:\n  0x4c1b2a: FailedTest_Fails_Test::TestBody()"));
    assert_eq!(fails.time_secs, Some(0.001));

    // Every failed assertion is in the detail; the first one is the message.
    let mixed = case(&report, "MixedResultTest::Fails");
    assert!(mixed
        .message
        .starts_with("gtest_xml_output_unittest_.cc:94\n"));
    assert!(mixed.detail.contains(":94\n") && mixed.detail.contains(":95\n"));

    let disabled = case(&report, "MixedResultTest::DISABLED_test");
    assert_eq!(disabled.message, "not run (status=\"notrun\")");
    assert_eq!(disabled.detail, "");

    // gtest splits a "]]>" in the text over two CDATA sections with an escaped ">" between.
    let quoting = case(&report, "XmlQuotingTest::OutputsCData");
    assert!(quoting
        .detail
        .ends_with("XML output: <?xml encoding=\"utf-8\"><top><![CDATA[cdata text]]></top>"));

    assert_eq!(
        case(&report, "SkippedTest::Skipped").message,
        "gtest_xml_output_unittest_.cc:76"
    );
    assert_eq!(
        case(&report, "SkippedTest::SkippedWithMessage").message,
        "gtest_xml_output_unittest_.cc:80\nIt is good practice to tell why you skip a test."
    );
    let after = case(&report, "SkippedTest::SkippedAfterFailure");
    assert!(after
        .message
        .starts_with("gtest_xml_output_unittest_.cc:84\n"));
    assert!(after.detail.contains("It is good practice"));

    // A failure outside any test is a case without a name, and it is a failure.
    let outside = report.cases.last().unwrap();
    assert_eq!(outside.suite, "NonTestSuiteFailure");
    assert_eq!(
        (outside.classname.as_str(), outside.name.as_str()),
        ("", "")
    );
    assert!(outside.message.starts_with("gtest_no_test_unittest.cc:54"));
}

const CTEST: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<testsuite name=\"ci-runner-7-Linux-c++\"
\ttests=\"5\"
\tfailures=\"2\"
\tdisabled=\"1\"
\tskipped=\"1\"
\thostname=\"ci-runner-7\"
\ttime=\"3\"
\ttimestamp=\"2026-11-26T22:21:04\"
\t>
\t<testcase name=\"vc_030_boot\" classname=\"vc_030_boot\" time=\"0.0123451\" status=\"run\">
\t\t<properties>
\t\t\t<property name=\"cmake_labels\" value=\"VC-030;hil\"/>
\t\t</properties>
\t\t<system-out>boot sequence ok
</system-out>
\t</testcase>
\t<testcase name=\"vc_031_brake\" classname=\"vc_031_brake\" time=\"0.503482\" status=\"fail\">
\t\t<failure message=\"Failed\"/>
\t\t<properties/>
\t\t<system-out>brake pressure 12 bar &lt; 15 bar
</system-out>
\t</testcase>
\t<testcase name=\"vc_032_soak\" classname=\"vc_032_soak\" time=\"1500.01\" status=\"fail\">
\t\t<failure message=\"Timeout\"/>
\t\t<properties/>
\t\t<system-out/>
\t</testcase>
\t<testcase name=\"vc_033_flash\" classname=\"vc_033_flash\" time=\"0\" status=\"notrun\">
\t\t<skipped message=\"Unable to find executable\"/>
\t\t<properties/>
\t\t<system-out/>
\t</testcase>
\t<testcase name=\"vc_034_legacy\" classname=\"vc_034_legacy\" time=\"0\" status=\"disabled\">
\t\t<properties/>
\t\t<system-out/>
\t</testcase>
</testsuite>
";

#[test]
fn reads_ctest() {
    let report = read(CTEST.as_bytes()).unwrap();
    assert_eq!(report.suites, 1);
    assert_eq!(
        outcomes(&report),
        [
            ("vc_030_boot::vc_030_boot".to_owned(), Outcome::Passed),
            ("vc_031_brake::vc_031_brake".to_owned(), Outcome::Failed),
            ("vc_032_soak::vc_032_soak".to_owned(), Outcome::Failed),
            ("vc_033_flash::vc_033_flash".to_owned(), Outcome::Skipped),
            ("vc_034_legacy::vc_034_legacy".to_owned(), Outcome::Skipped),
        ]
    );
    let boot = &report.cases[0];
    assert_eq!(boot.suite, "ci-runner-7-Linux-c++");
    assert_eq!(boot.time_secs, Some(0.0123451));
    assert_eq!(boot.detail, "[system-out]\nboot sequence ok");
    let brake = &report.cases[1];
    assert_eq!(brake.message, "Failed");
    assert_eq!(brake.detail, "[system-out]\nbrake pressure 12 bar < 15 bar");
    assert_eq!(report.cases[2].message, "Timeout");
    assert_eq!(report.cases[3].message, "Unable to find executable");
    assert_eq!(report.cases[4].message, "not run (status=\"disabled\")");
}

#[test]
fn nested_suites_declaration_free_files_and_unknown_content() {
    let xml = "\u{FEFF}<!-- written by hand -->
<!DOCTYPE testsuites>
<testsuites>
  <?stylesheet junit.xsl?>
  <testsuite name=\"outer\" package=\"x\">
    <testsuite name=\"inner\">
      <testcase name=\"a &amp; b\" classname=\"C&#228;se\" time=\"n/a\" custom=\"1\">
        <properties><property name=\"p\" value=\"v\"/></properties>
        <custom>ignored text</custom>
        <system-out><![CDATA[<raw> &amp; ]]>&lt;escaped&gt;</system-out>
      </testcase>
    </testsuite>
    <testcase name=\"after_inner\" time=\"-1\"/>
    <testsuite name=\"empty\"/>
  </testsuite>
  <testcase name=\"loose\"/>
</testsuites>";
    let report = read(xml.as_bytes()).unwrap();
    assert_eq!(report.suites, 3);
    let first = &report.cases[0];
    assert_eq!(first.suite, "inner");
    assert_eq!(first.full_name(), "Cäse::a & b");
    assert_eq!(first.time_secs, None);
    assert_eq!(first.outcome, Outcome::Passed);
    assert_eq!(first.detail, "[system-out]\n<raw> &amp; <escaped>");
    assert_eq!(report.cases[1].suite, "outer");
    assert_eq!(report.cases[1].time_secs, None);
    assert_eq!(report.cases[2].suite, "");
    assert_eq!(report.cases[2].full_name(), "loose");

    let single = read(b"<testsuite name='s'><testcase name='t'/></testsuite>").unwrap();
    assert_eq!((single.suites, single.cases.len()), (1, 1));
    let empty = read(b"<?xml version='1.0'?>\n<testsuites/>\n").unwrap();
    assert_eq!((empty.suites, empty.cases.len()), (0, 0));
}

#[test]
fn messages_and_details_are_capped() {
    let long_message = "m".repeat(5000);
    let long_output = "line of output\n".repeat(2000);
    let long_line = "x".repeat(3000);
    let xml = format!(
        "<testsuite><testcase name='t'><failure message='{long_message}'>body</failure>\
         <system-out>{long_output}</system-out><system-err>after</system-err></testcase>\
         <testcase name='u'><error>{long_line}\nsecond line</error></testcase></testsuite>"
    );
    let report = read(xml.as_bytes()).unwrap();
    let t = &report.cases[0];
    assert_eq!(t.message.chars().count(), MESSAGE_CAP);
    assert!(t.message.ends_with("m [truncated]"));
    assert!(t.detail.chars().count() <= DETAIL_CAP);
    assert!(t
        .detail
        .starts_with("body\n\n[system-out]\nline of output\n"));
    assert!(
        t.detail.ends_with("\n[truncated]"),
        "{}",
        &t.detail[t.detail.len() - 40..]
    );
    assert!(!t.detail.contains("after"));
    let u = &report.cases[1];
    assert_eq!(u.message.chars().count(), MESSAGE_CAP);
    assert!(u.message.starts_with("xxx") && u.message.ends_with(" [truncated]"));
    assert!(u.detail.ends_with("\nsecond line"));

    // A section cut at the cap says so even when the detail has room for the next one.
    let huge = "é".repeat(DETAIL_CAP + 10);
    let xml = format!(
        "<testsuite><testcase name='v'><system-out>{huge}</system-out></testcase></testsuite>"
    );
    let v = &read(xml.as_bytes()).unwrap().cases[0];
    assert_eq!(v.detail.chars().count(), DETAIL_CAP);
    assert!(v.detail.ends_with("é\n[truncated]"));
}

#[test]
fn refuses_what_is_not_a_junit_report() {
    assert_eq!(refused(b""), "line 1, column 1: the file is empty");
    assert_eq!(
        refused(b"\xEF\xBB\xBF"),
        "line 1, column 1: the file is empty"
    );
    assert_eq!(
        refused(b"<?xml version='1.0'?>\n  \n"),
        "line 3, column 1: the file has no root element; a JUnit XML report has <testsuites> \
         or <testsuite> as its root"
    );
    assert_eq!(
        refused(b"\n{\"tests\": []}"),
        "line 2, column 1: not an XML document: it starts with text, not with an element"
    );
    assert_eq!(
        refused(b"<?xml version=\"1.0\"?>\n<html><body/></html>"),
        "line 2, column 1: the root element is <html>; a JUnit XML report has <testsuites> or \
         <testsuite> as its root"
    );
    assert_eq!(
        refused(b"<testsuites>\n  <testsuite name=\"s\">\n    <testcase classname=\"c\"/>"),
        "line 3, column 5: <testcase> has no name attribute"
    );
    assert_eq!(
        refused(
            b"<testsuite>\n<testcase name='a'>\n  <testcase name='b'/>\n</testcase></testsuite>"
        ),
        "line 3, column 3: <testcase> inside a <testcase>"
    );
    assert_eq!(
        refused(b"<testsuites>\n<testsuite name='s'>\n<testcase name='t'>"),
        "line 3, column 20: the file ends before <testcase> is closed"
    );
    assert_eq!(
        refused(b"<testsuite/>\n<testsuite/>"),
        "line 2, column 1: <testsuite> follows the root element, which has ended"
    );
    assert_eq!(
        refused(b"<testsuite/>\r\n\r\n  trailing"),
        "line 3, column 3: text after the root element"
    );
    assert_eq!(
        refused(b"<testsuite><testcase name='t'>&nbsp;</testcase></testsuite>"),
        "line 1, column 31: undefined entity reference &nbsp;"
    );
    assert_eq!(
        refused("<testsuite>\n<testcase name='ü\u{1b}[31m'/></testsuite>".as_bytes()),
        "line 2, column 18: not well-formed XML: the control character U+001B is not allowed"
    );
    assert_eq!(
        refused(b"<testsuite name='caf\xE9'/>"),
        "line 1, column 21: the file is not UTF-8 text (byte 0xE9); JUnit XML is read as UTF-8"
    );
    assert_eq!(
        refused(b"\xFF\xFE<\x00t\x00"),
        "line 1, column 1: the file is UTF-16 encoded; JUnit XML is read as UTF-8"
    );

    // Not well-formed: the parser's own words, with where.
    let err = refused(b"<testsuites>\n<testsuite name='s'>\n</testsuites>");
    assert!(
        err.starts_with("line 3, column 1: not well-formed XML:"),
        "{err}"
    );
    let err = refused(b"<testsuite>\n<testcase name='a' name='b'/></testsuite>");
    assert!(err.starts_with("line 2, column 1: in <testcase>:"), "{err}");
    let err = refused(b"<testsuite>\n  <testcase name='a/></testsuite>");
    assert!(
        err.starts_with("line 2, column 3: not well-formed XML:"),
        "{err}"
    );
    let deep = format!("<testsuite>{}", "<x>".repeat(300));
    let err = refused(deep.as_bytes());
    assert_eq!(
        err,
        "line 1, column 777: elements are nested deeper than 256 levels"
    );
    let err = refused(b"PK\x03\x04");
    assert!(err.contains("control character U+0003"), "{err}");
}

#[test]
fn error_display_and_full_name() {
    let err = JunitError {
        line: 4,
        column: 2,
        message: "why".to_owned(),
    };
    assert_eq!(err.to_string(), "line 4, column 2: why");
    let mut case = read(b"<testsuite><testcase name='n' classname='c'/></testsuite>")
        .unwrap()
        .cases
        .remove(0);
    assert_eq!(case.full_name(), "c::n");
    case.classname.clear();
    assert_eq!(case.full_name(), "n");
}
