/** Statistics for experiment results. Pure functions; checked against scipy in the tests. */

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  LANCZOS.forEach((c, i) => (a += c / (z + i + 1)));
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** erfc with relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Regularized upper incomplete gamma Q(a, x), by series below a + 1 and continued fraction above. */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(logPrefix);
  }
  let b = x + 1 - a;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.exp(logPrefix) * h;
}

export function chiSquarePValue(statistic: number, degreesOfFreedom: number): number {
  return upperRegularizedGamma(degreesOfFreedom / 2, statistic / 2);
}

/** Wilson score interval: sound at small counts and near 0 or 1, unlike the plain normal interval. */
export function wilsonInterval(successes: number, trials: number, z = 1.959963984540054): [number, number] {
  if (trials === 0) return [0, 0];
  const p = successes / trials;
  const denominator = 1 + (z * z) / trials;
  const centre = (p + (z * z) / (2 * trials)) / denominator;
  const margin = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  return [Math.max(0, centre - margin), Math.min(1, centre + margin)];
}

/** Two-sided p-value of the pooled two-proportion z-test. */
export function twoProportionPValue(successesA: number, trialsA: number, successesB: number, trialsB: number): number {
  if (trialsA === 0 || trialsB === 0) return 1;
  const pooled = (successesA + successesB) / (trialsA + trialsB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / trialsA + 1 / trialsB));
  if (se === 0) return 1;
  const z = (successesB / trialsB - successesA / trialsA) / se;
  return 2 * (1 - normalCdf(Math.abs(z)));
}

/**
 * P(rate B > rate A) with uniform Beta(1, 1) priors. Exact (Evan Miller's closed form) while B's
 * successes are few enough to sum over; a normal approximation of both posteriors beyond that.
 */
export function chanceToBeat(successesA: number, trialsA: number, successesB: number, trialsB: number): number {
  const [alphaA, betaA] = [successesA + 1, trialsA - successesA + 1];
  const [alphaB, betaB] = [successesB + 1, trialsB - successesB + 1];
  if (alphaB <= 20_000) {
    let total = 0;
    const constant = logBeta(alphaA, betaA);
    for (let i = 0; i < alphaB; i++) {
      total += Math.exp(logBeta(alphaA + i, betaA + betaB) - Math.log(betaB + i) - logBeta(1 + i, betaB) - constant);
    }
    return Math.min(1, Math.max(0, total));
  }
  const moments = (a: number, b: number) => ({ mean: a / (a + b), variance: (a * b) / ((a + b) ** 2 * (a + b + 1)) });
  const A = moments(alphaA, betaA);
  const B = moments(alphaB, betaB);
  return normalCdf((B.mean - A.mean) / Math.sqrt(A.variance + B.variance));
}

/** Chi-square goodness of fit of observed counts to the expected weights; a small p flags a sample ratio mismatch. */
export function sampleRatioMismatchPValue(observed: number[], weights: number[]): number {
  const total = observed.reduce((sum, n) => sum + n, 0);
  const weightTotal = weights.reduce((sum, w) => sum + w, 0);
  if (total === 0 || observed.length < 2) return 1;
  const statistic = observed.reduce((sum, n, i) => {
    const expected = (total * weights[i]) / weightTotal;
    return expected > 0 ? sum + (n - expected) ** 2 / expected : sum;
  }, 0);
  return chiSquarePValue(statistic, observed.length - 1);
}

/** Linear-interpolated percentile (as PostgreSQL's percentile_cont) of sorted values. */
export function percentile(sorted: number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}
