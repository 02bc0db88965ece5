"""lumos.robustness: what changes in the inputs cost a model.

    from lumos import robustness
    robustness.run_suite(model, texts)                        # CheckList-style tests: failure rate per test
    robustness.attack(model, texts, "textfooler", budget=200)  # adversarial text, at most 200 rows per sentence
    robustness.image_attack(model, images, labels, "pgd", epsilons=[1/255, 4/255])
    robustness.slices(model, frame, labels)                    # rule and discovered subpopulations
    robustness.stress_test(model, test_frame)                  # all of them with default sizes: a report
"""

from .attacks import AdversarialExample, AttackResult, WordVocabulary, attack, attacks
from .image_attacks import ImageAttackResult, image_attack
from .slices import Rule, SliceReport, category, contains, feature_range, length, slices
from .text_suites import SuiteResult, TextTest, default_tests, run_suite
from .run import ExplainedPair, RobustnessPlan, RobustnessReport, stress_test

__all__ = ["run_suite", "default_tests", "TextTest", "SuiteResult", "attack", "attacks", "AttackResult",
           "AdversarialExample", "WordVocabulary", "image_attack", "ImageAttackResult", "slices", "SliceReport",
           "Rule", "length", "contains", "feature_range", "category", "stress_test", "RobustnessPlan",
           "RobustnessReport", "ExplainedPair"]
